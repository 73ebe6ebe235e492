#!/usr/bin/env bash
# Installs what sipcheck's tests, demo and benchmarks start: real SIP servers and peer tools from
# Debian 12's packages. Run as root (or with sudo) on a fresh machine.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  kamailio kamailio-tls-modules kamailio-extra-modules kamailio-secsipid-modules secsipidx \
  baresip-core sip-tester sipvicious \
  dnsmasq-base openssl sslscan testssl.sh tshark sofia-sip-bin \
  procps time iproute2 ca-certificates \
  libssl-dev pkg-config \
  chromium pandoc
