#!/usr/bin/env bash
# The main job: probe a trunk. With no argument, starts a throwaway local Kamailio (UDP, TCP, TLS with a
# fresh certificate) on loopback, probes it, prints the scorecard and the RFP answer sheet, and stops it.
#   scripts/demo.sh                       # local demo target
#   scripts/demo.sh trunk.example.com     # any target, any sipcheck probe flags after it
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/sipcheck
if [ $# -gt 0 ]; then
  exec "$bin" probe "$@"
fi
. scripts/local-kamailio.sh
echo "== local Kamailio on 127.0.0.1:$port (UDP/TCP) and :$((port+1)) (TLS), domain sip.test =="
set +e
"$bin" probe "127.0.0.1:$port" --domain sip.test --ca-file "$dir/ca.pem" -o "$dir/report.md" --format md
code=$?
echo
echo "== RFP answer sheet (from the markdown report) =="
sed -n '/^## RFP answer sheet/,/^## Appendix/p' "$dir/report.md" | sed '$d'
echo "exit code: $code"
