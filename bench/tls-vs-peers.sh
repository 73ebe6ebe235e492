#!/usr/bin/env bash
# sipcheck's TLS scan against sslscan and sslyze on local `openssl s_server` targets, directly and
# through a relay adding 10 ms each way (20 ms round trip). Prints wall times, ratios, the TCP
# connections each tool opened (counted by the relay) and whether the suite lists agree.
#
# Needs: openssl, sslscan (Debian), python3; sslyze is installed from PyPI into a venv under /tmp if
# missing (`python3 -m venv /tmp/sslyze-venv && /tmp/sslyze-venv/bin/pip install sslyze`).
# Usage: bench/tls-vs-peers.sh            (SIPCHECK=path/to/sipcheck to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/tls-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
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
  SIPCHECK=$ROOT/target/release/sipcheck
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 2; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" -days 30 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ec.key" \
  -out "$WORK/ec.crt" -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

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
for conf in legacy modern tls12three; do
  port=$(free_port)
  # shellcheck disable=SC2086
  openssl s_server -accept 127.0.0.1:"$port" -quiet -cert "$WORK/rsa.crt" -key "$WORK/rsa.key" \
    ${CONF[$conf]} </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port"
  for delay in 0 10; do
    # Direct runs go straight to the server (timing); delayed runs go through the relay, which also
    # counts the connections each tool opens.
    rport=$port
    relay=
    if [ "$delay" != 0 ]; then
      rport=$(free_port)
      python3 bench/delay_relay.py "$rport" 127.0.0.1 "$port" "$delay" "$WORK/count" &
      relay=$!
      PIDS+=($relay)
      wait_port "$rport"
    fi
    for tool in sipcheck sslscan sslyze; do
      echo - >"$WORK/count"
      base="$WORK/$conf-$delay-$tool"
      case $tool in
        sipcheck) secs=$(timed "$base.log" "$SIPCHECK" probe 127.0.0.1:"$rport" --transport tls --probes tls \
                    --format json -o "$base.out" -q) ;;
        sslscan)  secs=$(timed "$base.out" sslscan --no-colour --show-cipher-ids 127.0.0.1:"$rport") ;;
        sslyze)   secs=$(timed "$base.log" "$SSLYZE" --quiet --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 \
                    --tlsv1_3 --json_out="$base.out" 127.0.0.1:"$rport") ;;
      esac
      sleep 0.3
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$conf" "$delay" "$tool" "$secs" "$(cat "$WORK/count")" "$base.out" >>"$RESULTS"
    done
    [ -n "$relay" ] && kill "$relay" 2>/dev/null || true
  done
done

python3 - "$RESULTS" "$ROOT/probes/tls_cipher_suites.tsv" <<'PY'
import json, re, sys
IANA = {}
for line in open(sys.argv[2]):
    if not line.startswith("#") and "\t" in line:
        code, name = line.strip().split("\t")
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
for conf, delay, tool, secs, conns, path in rows:
    by[(conf, delay, tool)] = (float(secs), int(conns) if conns.isdigit() else None, suites(tool, path))
# Connection counts are measured on the relayed run; the algorithm is the same without delay.
for (conf, delay, tool), (secs, conns, s) in list(by.items()):
    if conns is None and (conf, "10", tool) in by:
        by[(conf, delay, tool)] = (secs, by[(conf, "10", tool)][1], s)

print(f"{'config':<11}{'rtt':>5}  {'sipcheck':>14}  {'sslscan':>14}  {'sslyze':>14}  {'sc/sslscan':>10}  {'sc/sslyze':>9}  agreement")
for conf in ["legacy", "modern", "tls12three"]:
    for delay in ["0", "10"]:
        k = lambda t: by.get((conf, delay, t))
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
        print(f"{conf:<11}{int(delay)*2:>3}ms  {cell(me):>14}  {cell(ss):>14}  {cell(sy):>14}  {me[0]/ss[0]:>10.2f}  {me[0]/sy[0]:>9.2f}  "
              f"sslscan: {agree(ss)}{order(ss)} | sslyze: {agree(sy)}")
for conf in ["legacy", "modern", "tls12three"]:
    me, ss, sy = (by.get((conf, "10", t)) for t in ("sipcheck", "sslscan", "sslyze"))
    if me and ss and sy:
        faster = min(ss[0], sy[0])
        print(f"{conf} at 20 ms: sipcheck / the faster peer = {me[0]:.2f} / {faster:.2f} = {me[0] / faster:.2f} (target <= 0.3)")
PY
echo "raw outputs: $WORK"
