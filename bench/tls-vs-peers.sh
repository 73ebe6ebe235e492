#!/usr/bin/env bash
# sipcheck's TLS scan against sslscan and sslyze on `openssl s_server` targets, through a packet-level
# delay line between two network namespaces (bench/netns.sh, bench/delay_line.py: every packet, SYN
# and FIN included, waits RTT/2 each way) at 0, 20 and 100 ms round trip. Prints wall times, ratios,
# the TCP connections each tool opened (SYNs counted by the delay line) and whether the suite lists
# agree.
#
# Needs root (network namespaces, /dev/net/tun), openssl, sslscan (Debian), python3; sslyze is
# installed from PyPI into a venv under /tmp if missing
# (`python3 -m venv /tmp/sslyze-venv && /tmp/sslyze-venv/bin/pip install sslyze`).
# Usage: bench/tls-vs-peers.sh   (RTTS="0 20 100" by default; SIPCHECK=path/to/sipcheck skips the build;
#        TOOLS="sipcheck" runs only some tools and prints only the raw table)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RTTS=${RTTS:-0 20 100}
TOOLS=${TOOLS:-sipcheck sslscan sslyze}
WORK=$(mktemp -d /tmp/tls-bench.XXXXXX)
PIDS=()
. bench/netns.sh
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; netns_down; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "missing: $1 ($2)" >&2; exit 2; }; }
need openssl "apt-get install openssl"
need sslscan "apt-get install sslscan"
need python3 "apt-get install python3"
SSLYZE=${SSLYZE:-/tmp/sslyze-venv/bin/sslyze}
if [ ! -x "$SSLYZE" ]; then
  python3 -m venv /tmp/sslyze-venv && /tmp/sslyze-venv/bin/pip install -q sslyze
fi
if [ -z "${SIPCHECK:-}" ]; then
  cargo build --release -q
  SIPCHECK=${CARGO_TARGET_DIR:-$ROOT/target}/release/sipcheck
fi
netns_up

wait_port() { for _ in $(seq 100); do in_a bash -c "exec 3<>/dev/tcp/$ADDR_B/$1" 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 2; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" -days 30 \
  -subj /CN=$ADDR_B -addext subjectAltName=IP:$ADDR_B 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ec.key" \
  -out "$WORK/ec.crt" -days 30 -subj /CN=$ADDR_B -addext subjectAltName=IP:$ADDR_B 2>/dev/null

MOZ="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
declare -A CONF
CONF[legacy]="-provider legacy -provider default -min_protocol TLSv1 -cipher ALL:COMPLEMENTOFALL:@SECLEVEL=0 -serverpref -dcert $WORK/ec.crt -dkey $WORK/ec.key"
CONF[modern]="-min_protocol TLSv1.2 -cipher $MOZ"
CONF[tls12three]="-min_protocol TLSv1.2 -max_protocol TLSv1.2 -cipher AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA256 -serverpref"

timed() { # timed OUTFILE cmd... ; prints seconds
  local out=$1; shift
  local t0 t1; t0=$(date +%s.%N)
  "$@" >"$out" 2>&1 || true
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.2f}')"
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
port=4433
for conf in legacy modern tls12three; do
  port=$((port + 1))
  # `ip netns exec` becomes openssl (it execs), so $! is the server's own PID for the cleanup; through
  # the in_b function it would be a subshell's, and killing that left the server running.
  # shellcheck disable=SC2086
  ip netns exec "$NS_B" openssl s_server -accept "$ADDR_B:$port" -quiet -cert "$WORK/rsa.crt" -key "$WORK/rsa.key" \
    ${CONF[$conf]} </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  for rtt in $RTTS; do
    delay_start "$rtt" "$WORK/count-$conf-$rtt.json"
    [ "$rtt" = "${RTTS%% *}" ] && wait_port "$port"
    for tool in $TOOLS; do
      base="$WORK/$conf-$rtt-$tool"
      before=$(count "$WORK/count-$conf-$rtt.json" connections)
      case $tool in
        sipcheck) secs=$(timed "$base.log" in_a "$SIPCHECK" probe "$ADDR_B:$port" --transport tls --probes tls \
                    --format json -o "$base.out" -q) ;;
        sslscan)  secs=$(timed "$base.out" in_a sslscan --no-colour --show-cipher-ids "$ADDR_B:$port") ;;
        sslyze)   secs=$(timed "$base.log" in_a "$SSLYZE" --quiet --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 \
                    --tlsv1_3 --json_out="$base.out" "$ADDR_B:$port") ;;
      esac
      sleep 0.3
      conns=$(( $(count "$WORK/count-$conf-$rtt.json" connections) - before ))
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$conf" "$rtt" "$tool" "$secs" "$conns" "$base.out" >>"$RESULTS"
    done
    delay_stop
  done
done

python3 - "$RESULTS" "$ROOT/probes/tls_cipher_suites.tsv" <<'PY'
import json, re, sys
IANA = {}
for line in open(sys.argv[2]):
    if not line.startswith("#") and "\t" in line:
        code, name = line.rstrip("\n").split("\t")[:2]
        IANA[int(code, 16)] = name
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
VERS = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

def suites(tool, path):
    out = {}
    try:
        if tool == "sipcheck":
            rep = json.load(open(path))
            for f in rep["findings"]:
                if f["id"] == "tls.cipher_suites":
                    for v, d in f["details"].items():
                        out[v] = d["suites"]
        elif tool == "sslscan":
            for line in open(path):
                m = re.match(r"^(Preferred|Accepted)\s+(\S+)\s+\d+\s+bits\s+0x([0-9A-Fa-f]{4})", line)
                if m:
                    code = int(m.group(3), 16)
                    out.setdefault(m.group(2), []).append(IANA.get(code, f"0x{code:04X}"))
        else:
            rep = json.load(open(path))
            res = rep["server_scan_results"][0]["scan_result"]
            keys = {"SSLv3": "ssl_3_0_cipher_suites", "TLSv1.0": "tls_1_0_cipher_suites",
                    "TLSv1.1": "tls_1_1_cipher_suites", "TLSv1.2": "tls_1_2_cipher_suites",
                    "TLSv1.3": "tls_1_3_cipher_suites"}
            for v, k in keys.items():
                acc = ((res.get(k) or {}).get("result") or {}).get("accepted_cipher_suites") or []
                if acc:
                    out[v] = [a["cipher_suite"]["name"] for a in acc]
    except Exception as e:
        out["error"] = [str(e)]
    return out

by = {}
RTTS = []
for conf, rtt, tool, secs, conns, path in rows:
    by[(conf, rtt, tool)] = (float(secs), int(conns) if conns.isdigit() else None, suites(tool, path))
    if rtt not in RTTS:
        RTTS.append(rtt)

print(f"{'config':<11}{'rtt':>5}  {'sipcheck':>14}  {'sslscan':>14}  {'sslyze':>14}  {'sc/sslscan':>10}  {'sc/sslyze':>9}  agreement")
for conf in ["legacy", "modern", "tls12three"]:
    for rtt in RTTS:
        k = lambda t: by.get((conf, rtt, t))
        me, ss, sy = k("sipcheck"), k("sslscan"), k("sslyze")
        if not (me and ss and sy):
            continue
        def agree(other):
            notes = []
            for v in VERS:
                a, b = me[2].get(v, []), other[2].get(v, [])
                if set(a) != set(b):
                    mine, theirs = sorted(set(a) - set(b)), sorted(set(b) - set(a))
                    notes.append(f"{v}: only sipcheck {len(mine)} {mine[:3]}, only other {len(theirs)} {theirs[:3]}")
            return "same sets" if not notes else "; ".join(notes)
        def order(other):
            diff = [v for v in VERS if me[2].get(v) and set(me[2][v]) == set(other[2].get(v, [])) and me[2][v] != other[2][v]]
            return "" if not diff else f" (order differs in {','.join(diff)})"
        cell = lambda r: f"{r[0]:6.2f}s/{r[1] if r[1] is not None else '?':>4}c"
        print(f"{conf:<11}{int(rtt):>3}ms  {cell(me):>14}  {cell(ss):>14}  {cell(sy):>14}  {me[0]/ss[0]:>10.2f}  {me[0]/sy[0]:>9.2f}  "
              f"sslscan: {agree(ss)}{order(ss)} | sslyze: {agree(sy)}")
for conf in ["legacy", "modern", "tls12three"]:
    for rtt in RTTS:
        me, ss, sy = (by.get((conf, rtt, t)) for t in ("sipcheck", "sslscan", "sslyze"))
        if me and ss and sy:
            faster = min(ss[0], sy[0])
            print(f"{conf} at {rtt} ms: sipcheck / the faster peer = {me[0]:.2f} / {faster:.2f} = {me[0] / faster:.2f} (target <= 0.3)")
PY
column -t "$RESULTS" | cut -c1-80
echo "raw outputs: $WORK"
