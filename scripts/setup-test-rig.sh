#!/usr/bin/env bash
# The test rig: the real SIP servers and peer tools that sipcheck's tests, scripts/demo.sh and the
# benchmarks start on loopback, from Debian 12's packages (Kamailio with TLS and secsipid, baresip,
# rtpengine (userspace, started by the tests; the packaged service is switched off), SIPp, SIPVicious,
# dnsmasq, openssl, sslscan, testssl.sh, tshark, Sofia-SIP's sip-dig, secsipidx, Chromium, pandoc;
# man-db for the Debian package check), and Microsoft's SARIF multitool from npm (the SARIF
# validator code-scanning users trust; it ships the SARIF 2.1.0 JSON schema; its .NET binary needs
# ICU). Installs only what is missing, so a second run costs nothing. apt-get goes through sudo unless you are root. scripts/test.sh runs this first.
set -euo pipefail

packages=(
  kamailio kamailio-tls-modules kamailio-extra-modules kamailio-websocket-modules kamailio-secsipid-modules secsipidx
  baresip-core rtpengine-daemon rtpengine-utils sip-tester sipvicious
  dnsmasq-base openssl sslscan testssl.sh tshark sofia-sip-bin
  procps time iproute2 ca-certificates man-db
  chromium pandoc libicu72 python3-venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "test rig: apt-get needs root: run this as root, or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "test rig: all ${#packages[@]} packages installed"
else
  echo "test rig: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Debian's rtpengine-daemon enables and starts a system-wide rtpengine (kernel table 0, ports on every
# interface). The tests start their own, userspace-only, on loopback: the packaged service stays off.
if command -v systemctl >/dev/null && systemctl list-unit-files rtpengine-daemon.service >/dev/null 2>&1; then
  if systemctl is-enabled --quiet rtpengine-daemon.service 2>/dev/null || systemctl is-active --quiet rtpengine-daemon.service 2>/dev/null; then
    echo "test rig: disabling the packaged rtpengine-daemon service (tests start their own)"
    "${sudo[@]}" systemctl disable rtpengine-daemon.service >/dev/null 2>&1 || true
    "${sudo[@]}" systemctl stop rtpengine-daemon.service >/dev/null 2>&1 || true
  fi
fi

# The SARIF multitool, pinned; the tests call its Linux binary directly (the npm wrapper passes
# arguments through a shell, which splits `--rule-kind "Sarif;Gh"` at the semicolon).
sarif_version=5.7.0
if ! command -v npm >/dev/null; then
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
sarif_pkg="$(npm root -g)/@microsoft/sarif-multitool"
if ! grep -qs "\"version\": \"$sarif_version\"" "$sarif_pkg/package.json"; then
  echo "test rig: installing @microsoft/sarif-multitool@$sarif_version"
  "${sudo[@]}" npm install -g "@microsoft/sarif-multitool@$sarif_version"
fi
"${sudo[@]}" chmod u+x "$sarif_pkg/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"

# Python tools the tests run (from PyPI): the fleet recipes' schema validators. Debian's Python
# refuses system-wide pip installs (PEP 668), so they live in a virtual environment of their own,
# linked into /usr/local/bin.
venv=/opt/sipcheck-test-rig/venv
need_py=()
for t in check-jsonschema kubernetes-validate; do
  command -v "$t" >/dev/null || need_py+=("$t")
done
if [ ${#need_py[@]} -gt 0 ]; then
  echo "test rig: pip installing ${need_py[*]} into $venv"
  [ -x "$venv/bin/pip" ] || "${sudo[@]}" /usr/bin/python3 -m venv "$venv"
  "${sudo[@]}" "$venv/bin/pip" install --quiet "${need_py[@]}"
  for t in "${need_py[@]}"; do
    "${sudo[@]}" ln -sf "$venv/bin/$t" "/usr/local/bin/$t"
  done
fi
