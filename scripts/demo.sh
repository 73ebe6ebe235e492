#!/usr/bin/env bash
# The main job: probe a trunk. With no argument, starts a throwaway local Kamailio (UDP, TCP, TLS with a
# fresh CA; Kamailio comes from scripts/setup-test-rig.sh) on loopback, probes it, prints the scorecard,
# keeps the HTML report in a directory it names, and stops Kamailio.
#   scripts/demo.sh                       # local demo target
#   scripts/demo.sh trunk.example.com     # any target, any sipcheck probe flags after it
# SIPCHECK_DEMO_DIR: where the report goes (default: a new directory under /tmp).
# SIPCHECK_BIN: the sipcheck to run (default: target/release/sipcheck, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${SIPCHECK_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/sipcheck"
fi
if [ $# -gt 0 ]; then
  exec "$bin" probe "$@"
fi
out="${SIPCHECK_DEMO_DIR:-$(mktemp -d -t sipcheck-demo.XXXXXX)}"
mkdir -p "$out"
. scripts/local-kamailio.sh
echo "== local Kamailio on 127.0.0.1:$port (UDP/TCP) and :$((port+1)) (TLS), domain sip.test =="
set +e
"$bin" probe "127.0.0.1:$port" --domain sip.test --ca-file "$dir/ca.pem" --format html -o "$out/report.html"
code=$?
set -e
echo "== exit code $code; the report (the RFP answer sheet and the evidence, one self-contained file):"
echo "$out/report.html"
