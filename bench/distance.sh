#!/usr/bin/env bash
# Distance benchmark: the default safe scan (no --probes) of a local Kamailio on UDP, TCP and TLS,
# through a packet-level delay line between two network namespaces (bench/netns.sh: every packet, SYN
# and FIN included, waits RTT/2 each way) at 0, 20 and 100 ms round trip, at the default politeness
# (--rate 20, --max-connections 5). Beside each wall time it prints what bounds it:
#   rate floor  = SIP requests sent / the rate budget (one budget: one address); UDP and TCP requests
#                 are counted by the delay line (retransmissions included), SIP-over-TLS ones from the
#                 report's evidence (which keeps at most 12 per finding), so this is a lower bound;
#   connections = TCP connections opened (SYNs counted by the delay line), the connection-seconds
#                 they were open, and that sum / the connections allowed at once: no schedule under
#                 the cap can finish sooner (the "slot floor");
#   at the cap  = the time all those connections were open at once: the part of the run the cap bounds;
#   chains      = the TLS scan's longest line of hellos that each wait for the previous answer, and the
#                 catalog's cases / 8 in flight, in round trips.
# Needs root (network namespaces, /dev/net/tun). Usage: bench/distance.sh
# (RTTS="0 20 100" by default; CAP=N and RATE=N change the politeness; SIPCHECK=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/.."
RTTS=${RTTS:-0 20 100}
RATE=${RATE:-20}
CAP=${CAP:-5}
if [ -z "${SIPCHECK:-}" ]; then
  cargo build --release --quiet
  SIPCHECK=${CARGO_TARGET_DIR:-$PWD/target}/release/sipcheck
fi
. bench/netns.sh
netns_up
KAMAILIO_NETNS=$NS_B KAMAILIO_ADDR=$ADDR_B . scripts/local-kamailio.sh
trap 'netns_down; cleanup' EXIT
work=$(mktemp -d /tmp/distance-bench.XXXXXX)

printf '%-6s %8s %20s %34s %16s  %s\n' "rtt" "wall" "rate floor" "connections (slot floor)" "at the cap" "chains, findings"
for rtt in $RTTS; do
  delay_start "$rtt" "$work/c$rtt.json"
  s=$(date +%s%N)
  in_a "$SIPCHECK" probe "$ADDR_B:$port" --transport udp,tcp,tls --domain sip.test --ca-file "$dir/ca.pem" \
    --rate "$RATE" --max-connections "$CAP" --format json -o "$work/r$rtt.json" -q || true
  e=$(date +%s%N)
  sleep 0.3
  delay_stop
  python3 - "$work/r$rtt.json" "$work/c$rtt.json" "$(( (e - s) / 1000000 ))" "$rtt" "$RATE" "$CAP" <<'PY'
import json, math, re, sys
path, counts, wall_ms, rtt, rate, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
rep = json.load(open(path))
c = json.load(open(counts))
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
requests = c["sip_requests"] + tls_sip
at_cap = sum(v for k, v in c["open_seconds"].items() if int(k) >= cap)
counts = {}
for f in rep["findings"]:
    counts[f["status"]] = counts.get(f["status"], 0) + 1
print(f"{rtt:>3} ms {wall_ms / 1000:7.2f}s {requests / rate:8.2f}s ({requests:>3} req) "
      f"{c['connections']:>4} conns {c['connection_seconds']:6.2f} c-s ({c['connection_seconds'] / cap:5.2f}s) "
      f"{at_cap:8.2f}s  TLS line {tls_line}, catalog cases/8 {windows}; {sorted(counts.items())}")
ports = ", ".join(f"port {p}: {v['connections']} conns {v['connection_seconds']:.2f} c-s"
                  for p, v in sorted(c.get("by_port", {}).items()))
print(f"       by server port: {ports}")
PY
done
echo "reports and counts: $work"
