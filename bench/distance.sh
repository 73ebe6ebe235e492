#!/usr/bin/env bash
# Distance benchmark (issue 15): the default safe scan (no --probes) of a local Kamailio on UDP, TCP
# and TLS, through bench/delay_relay.py at 0, 20 and 100 ms round trip, at the default politeness
# (--rate 20). Beside each wall time it prints the two floors no scheduling can beat:
#   rate floor  = SIP requests sent / the rate budget (one budget: every transport is 127.0.0.1);
#                 UDP and TCP requests are counted by the relay, SIP-over-TLS requests from the
#                 report's evidence (the relay cannot read them), so this is a lower bound;
#   chain floor = the longest chain of exchanges that each wait for the previous answer x RTT: the
#                 TLS scan's longest suite enumeration (support hello + one hello per further suite +
#                 the refusal), or the catalog's cases / 8 (at most 8 unanswered cases in flight, each
#                 at least one round trip), whichever is longer.
# The 0 ms run goes through the relay too (with no delay), so that it is counted the same way. The
# relay does not delay TCP handshakes (see delay_relay.py). Loopback only.
# Usage: bench/distance.sh            (RTTS="0 20 100" by default; SIPCHECK=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
RTTS=${RTTS:-0 20 100}
RATE=20
if [ -z "${SIPCHECK:-}" ]; then
  cargo build --release --quiet
  SIPCHECK=$PWD/target/release/sipcheck
fi
. scripts/local-kamailio.sh
for _ in $(seq 50); do ss -lnt | grep -q "127.0.0.1:$((port+1)) " && break; sleep 0.1; done
work=$(mktemp -d /tmp/distance-bench.XXXXXX)
relays=()
stop_relays() { for p in "${relays[@]}"; do kill "$p" 2>/dev/null || true; done; relays=(); }
trap 'stop_relays; cleanup' EXIT
free_pair() { # a port P with P/tcp, P/udp and P+1/tcp free
  python3 - <<'PY'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
        b = socket.socket(); b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p); break
PY
}
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 2; }

printf '%-6s %9s %14s %22s  %s\n' "rtt" "wall" "rate floor" "chain floor" "what"
for rtt in $RTTS; do
  half=$(python3 -c "print($rtt/2)")
  r=$(free_pair)
  echo 0 >"$work/c$rtt"; echo 0 >"$work/c$rtt.sip"
  python3 bench/delay_relay.py "$r" 127.0.0.1 "$port" "$half" "$work/c$rtt" udp & relays+=($!)
  python3 bench/delay_relay.py "$((r + 1))" 127.0.0.1 "$((port + 1))" "$half" "$work/t$rtt" & relays+=($!)
  wait_port "$r"; wait_port "$((r + 1))"
  s=$(date +%s%N)
  "$SIPCHECK" probe "127.0.0.1:$r" --transport udp,tcp,tls --domain sip.test --ca-file "$dir/ca.pem" \
    --rate "$RATE" --format json -o "$work/r$rtt.json" -q || true
  e=$(date +%s%N)
  sleep 0.2
  stop_relays
  python3 - "$work/r$rtt.json" "$(cat "$work/c$rtt.sip")" "$(( (e - s) / 1000000 ))" "$rtt" "$RATE" <<'PY'
import json, math, re, sys
path, plain, wall_ms, rtt, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rep = json.load(open(path))
method = re.compile(r"^[A-Z]+ (sips?|tel):\S* SIP/2\.0")
tls_sip = sum(1 for f in rep["findings"] for e in (f.get("evidence") or [])
              if e["transport"] == "tls" and method.match(e["sent"]))
tls_line = 0
windows = 0
for f in rep["findings"]:
    d = f.get("details") or {}
    if f["id"] == "tls.cipher_suites":
        for v in d.values():
            if isinstance(v, dict) and v.get("suites"):
                tls_line = max(tls_line, len(v["suites"]) + 1)
    if f["id"] == "robustness.malformed" and isinstance(d.get("cases_run"), int):
        windows = max(windows, math.ceil(d["cases_run"] / 8))
chain = max(tls_line, windows)
requests = plain + tls_sip
counts = {}
for f in rep["findings"]:
    counts[f["status"]] = counts.get(f["status"], 0) + 1
print(f"{rtt:>3} ms {wall_ms / 1000:8.2f}s {requests / rate:8.2f}s ({requests:>3} req) "
      f"{chain * rtt / 1000:7.2f}s ({chain:>3} x {rtt} ms)  "
      f"TLS line {tls_line}, catalog cases/8 {windows}; findings {sorted(counts.items())}")
PY
done
echo "reports: $work"
