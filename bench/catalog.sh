#!/usr/bin/env bash
# Robustness benchmark: wall time of the default malformed-message catalog (cases in flight in windows
# of 8, an answered case counting as the liveness proof, a liveness OPTIONS only after a window that
# ends unanswered) against a local Kamailio over UDP and TCP at once, at the default politeness
# (--rate 20, burst 10) and at --rate 500. Prints medians over N runs (default 5). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5}
cargo build --release --quiet
bin=$PWD/target/release/sipcheck
. scripts/local-kamailio.sh
for _ in $(seq 50); do ss -lnt | grep -q "127.0.0.1:$((port+1)) " && break; sleep 0.1; done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
cases=$("$bin" probe "127.0.0.1:$port" --probes robustness.malformed --transport udp --format json --rate 500 \
  | grep -c '"liveness":' || true)
for rate in 20 500; do
  runs=()
  for _ in $(seq "$N"); do
    runs+=("$(time_ms "$bin" probe "127.0.0.1:$port" --probes robustness.malformed --transport udp,tcp --rate "$rate")")
  done
  echo "catalog (${cases} cases per transport, udp+tcp at once) at --rate $rate: median $(printf '%s\n' "${runs[@]}" | median) ms over $N runs"
done
