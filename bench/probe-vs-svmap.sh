#!/usr/bin/env bash
# Foundation benchmark: wall time of `sipcheck probe 127.0.0.1 --probes transport,sip,sips` (three
# transports, REFER, Server header, certificate) against a local Kamailio, beside SIPVicious svmap
# (UDP fingerprint of the same host), measured in the same run.
# Prints medians over N runs (default 15) and the ratio sipcheck/svmap. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-15}
cargo build --release --quiet
bin=$PWD/target/release/sipcheck
. scripts/local-kamailio.sh
for _ in $(seq 50); do ss -lnt | grep -q "127.0.0.1:$((port+1)) " && break; sleep 0.1; done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
sc=(); sv=()
for _ in $(seq "$N"); do
  sc+=("$(time_ms "$bin" probe "127.0.0.1:$port" --probes transport,sip,sips --domain sip.test --ca-file "$dir/ca.pem")")
  if command -v svmap >/dev/null; then
    sv+=("$(time_ms svmap -p "$port" 127.0.0.1)")
  fi
done
sc_med=$(printf '%s\n' "${sc[@]}" | median)
echo "sipcheck probe (udp+tcp+tls, refer, server header, certificate): median ${sc_med} ms over $N runs"
if [ ${#sv[@]} -gt 0 ]; then
  sv_med=$(printf '%s\n' "${sv[@]}" | median)
  echo "svmap (udp fingerprint only):                                   median ${sv_med} ms over $N runs"
  awk -v a="$sc_med" -v b="$sv_med" 'BEGIN { printf "ratio sipcheck/svmap: %.3f (sipcheck is %.1fx faster)\n", a/b, b/a }'
else
  echo "svmap not installed (Debian package sipvicious): no ratio"
fi
