#!/usr/bin/env bash
# Installs what sipcheck's tests, demo and benchmarks start: real SIP servers and peer tools from
# Debian 12's packages. Run as root (or with sudo) on a fresh machine.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  kamailio kamailio-tls-modules kamailio-extra-modules kamailio-secsipid-modules secsipidx \
  baresip-core sip-tester sipvicious \
  dnsmasq-base openssl sslscan tshark sofia-sip-bin \
  procps time iproute2 ca-certificates \
  libssl-dev pkg-config \
  chromium pandoc
# Microsoft's SARIF multitool (the validator code-scanning users trust) and the SARIF 2.1.0 JSON
# schema it ships: the SARIF tests validate `--format sarif` with both. Its .NET binary needs ICU.
apt-get install -y --no-install-recommends libicu72
command -v npm >/dev/null || apt-get install -y --no-install-recommends nodejs npm
npm install -g @microsoft/sarif-multitool@5.7.0
chmod u+x "$(npm root -g)/@microsoft/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
