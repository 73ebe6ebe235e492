#!/usr/bin/env bash
# The test rig: the real SIP servers and peer tools that sipcheck's tests, scripts/demo.sh and the
# benchmarks start on loopback, from Debian 12's packages (Kamailio with TLS and secsipid, baresip,
# SIPp, SIPVicious, dnsmasq, openssl, sslscan, testssl.sh, tshark, Sofia-SIP's sip-dig, secsipidx, Chromium,
# pandoc; man-db for the Debian package check). Installs only what is missing, so a second run costs
# nothing. apt-get goes through sudo unless you are root. scripts/test.sh runs this first.
set -euo pipefail

packages=(
  kamailio kamailio-tls-modules kamailio-extra-modules kamailio-secsipid-modules secsipidx
  baresip-core sip-tester sipvicious
  dnsmasq-base openssl sslscan testssl.sh tshark sofia-sip-bin
  procps time iproute2 ca-certificates man-db
  chromium pandoc
)

# Python tools the tests run (from PyPI): the fleet recipes' schema validators.
need_py=()
for t in check-jsonschema kubernetes-validate; do
  command -v "$t" >/dev/null || need_py+=("$t")
done
if [ ${#need_py[@]} -gt 0 ]; then
  echo "test rig: pip installing ${need_py[*]}"
  python3 -m pip install --quiet "${need_py[@]}"
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test rig: all ${#packages[@]} packages installed"
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "test rig: apt-get needs root: run this as root, or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
echo "test rig: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
