#!/usr/bin/env bash
# Multi-target benchmark: `sipcheck probe -f targets.txt` against 100 fake trunks served by one
# in-process fake (examples/fake_trunks.rs, trunk i on 127.0.1.i, answering after (i % 10) * 50 ms),
# each published in DNS by a local dnsmasq (SRV _sip._udp/_sip._tcp → sbcI → A), so every target goes
# through RFC 3263 discovery. Reports wall time and peak memory (/usr/bin/time -v) for the batch at
# --parallel 100 and 16, beside the slowest single trunk alone. SEQUENTIAL=1 adds --parallel 1 (the
# sum). Then a trunk whose 10 endpoints (SRV _sip._udp → 10 hosts, a second fake on PORT+1) silently
# drop REFER: its default scan beside one timeout plus the catalog alone on it (at most twice that is
# the goal). Loopback only; every process started here is stopped by PID on exit.
# The fleet figure: N=1000 SBCS=900 PARALLEL="100 400" JSONL=1 bench/multi-target.sh runs 1,000
# targets whose last 100 share the SBC (address) of another (so they share its politeness budget),
# each batch writing one JSON line per trunk (--jsonl) instead of a report directory.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
SBCS=${SBCS:-$N}
PARALLEL=${PARALLEL:-100 16}
JSONL=${JSONL:-0}
PORT=${PORT:-25060}
DELAY_MS=${DELAY_MS:-50}
command -v dnsmasq >/dev/null || { echo "dnsmasq missing: apt-get install dnsmasq-base" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }
# PROFILE=debug reuses a test build for a quick look; docs/benchmarks.md's figures are from release.
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then cargo build --release --quiet --bin sipcheck --example fake_trunks
else cargo build --quiet --bin sipcheck --example fake_trunks; fi
tdir=${CARGO_TARGET_DIR:-$PWD/target}
bin=$tdir/$PROFILE/sipcheck
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The fake trunks.
: >"$work/fakes.out"
"$tdir/$PROFILE/examples/fake_trunks" "$SBCS" "$PORT" "$DELAY_MS" >"$work/fakes.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/fakes.out" && break; sleep 0.05; done
grep -q ready "$work/fakes.out" || { cat "$work/fakes.out" >&2; exit 1; }
RPORT=$((PORT + 1))
: >"$work/refer.out"
"$tdir/$PROFILE/examples/fake_trunks" 10 "$RPORT" "$DELAY_MS" REFER >"$work/refer.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/refer.out" && break; sleep 0.05; done
grep -q ready "$work/refer.out" || { cat "$work/refer.out" >&2; exit 1; }

# The zone (a dnsmasq configuration file: a thousand targets are too many for its command line).
# Fake trunk i is at 127.0.1.i, then 127.0.2.1, ... (examples/fake_trunks.rs); target i names SBC
# ((i - 1) % SBCS) + 1, so with SBCS < N the last targets share an SBC's address with the first.
dns_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
: >"$work/targets.txt"
: >"$work/zone.conf"
for i in $(seq "$SBCS"); do
  echo "host-record=sbc$i.bench.test,127.0.$((1 + (i - 1) / 254)).$((1 + (i - 1) % 254))" >>"$work/zone.conf"
done
for i in $(seq "$N"); do
  s=$(( (i - 1) % SBCS + 1 ))
  printf 'srv-host=_sip._udp.t%s.bench.test,sbc%s.bench.test,%s,10,10\nsrv-host=_sip._tcp.t%s.bench.test,sbc%s.bench.test,%s,10,10\n' \
    "$i" "$s" "$PORT" "$i" "$s" "$PORT" >>"$work/zone.conf"
  echo "t$i.bench.test" >>"$work/targets.txt"
done
# Priorities 1..10: the same endpoint order every run, so the catalog always runs on sbc1.
for i in $(seq 10); do
  echo "srv-host=_sip._udp.refer.bench.test,sbc$i.bench.test,$RPORT,$i,10" >>"$work/zone.conf"
done
# sipcheck asks over TCP, and dnsmasq serves 20 TCP clients at once unless told otherwise: 100
# discoveries at once would queue behind that limit of the fixture, not of sipcheck. It forks a process
# per TCP client only when it runs normally: --no-daemon (debug mode) answers every TCP client in its
# one process, one connection after another, whatever --max-tcp-connections says, so 400 discoveries
# at once waited seconds for their first answer (some past the 10 s discovery budget). Its listen
# queue stays 32 connections (fixed in dnsmasq): 400 connecting at once overflow it, and the kernel's
# SYN retries (1 s, then 3 s) show as DNS discovery time (the per-target figures printed below).
# --keep-in-foreground stays our child (stopped by PID) and --log-facility=- logs to stderr.
dnsmasq --keep-in-foreground --log-facility=- --pid-file= --no-resolv --no-hosts --bind-interfaces \
  --listen-address=127.0.0.1 --port="$dns_port" --max-tcp-connections=1024 --local=/bench.test/ --conf-file="$work/zone.conf" 2>"$work/dnsmasq.log" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$dns_port") 2>/dev/null && break; sleep 0.05; done

measure() { # label, then the sipcheck arguments
  local label=$1; shift
  local code=0
  /usr/bin/time -v "$bin" probe "$@" --dns-server "127.0.0.1:$dns_port" --timeout 3s --format json >"$work/out.txt" 2>"$work/time.txt" || code=$?
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time.txt")
  # CPU: user + system time as a share of one core (200 % is both cores of a 2-core machine).
  cpu=$(awk -F': ' '/Percent of CPU this job got/ {print $2}' "$work/time.txt")
  printf '%-44s wall %8s   peak RSS %7s MB   CPU %5s   exit %s\n' "$label" "$wall" "$rss" "$cpu" "$code"
  last_s=$(echo "$wall" | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}')
}

slowest=$(( (N >= 9) ? 9 : N ))
echo "sipcheck multi-target benchmark: $N targets on $SBCS fake trunks (UDP+TCP, answer delay 0-$((9 * DELAY_MS)) ms), RFC 3263 discovery via dnsmasq"
measure "single slowest trunk (t$slowest, $((slowest % 10 * DELAY_MS)) ms/answer)" "t$slowest.bench.test"
python3 -c "import json,sys; r=json.load(open('$work/out.txt')); print('    endpoints:', ', '.join(e['transport']+':'+e['address'] for e in r['endpoints']), '· UDP answered:', any(f['id']=='transport.udp' and f['details'].get('reachable') for f in r['findings']))"
for p in $PARALLEL; do
  rm -rf "$work/reports" "$work/out.jsonl"
  if [ "$JSONL" = 1 ]; then
    measure "-f $N targets --parallel $p --jsonl" -f "$work/targets.txt" --parallel "$p" --jsonl "$work/out.jsonl" --quiet
  else
    measure "-f $N targets --parallel $p" -f "$work/targets.txt" --parallel "$p" -o "$work/reports" --quiet
  fi
  python3 - "$work/reports" "$N" "$work/out.jsonl" <<'PY'
import collections, json, os, sys
if os.path.exists(sys.argv[3]):
    lines = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
    reports = [l.get("report") for l in lines]
    d = {"targets": [{"exit_code": l.get("exit_code"), "inline": r} for l, r in zip(lines, reports)]}
else:
    d = json.load(open(os.path.join(sys.argv[1], "index.json")))
codes = collections.Counter(t["exit_code"] for t in d["targets"])
answered = 0
dns_ms = []
for t in d["targets"]:
    r = t.get("inline")
    if r is None and t.get("report"):
        r = json.load(open(os.path.join(sys.argv[1], t["report"])))
    if r is not None and "findings" in r:
        answered += any(f["id"] == "transport.udp" and f["details"].get("reachable") for f in r["findings"])
        for f in r["findings"]:
            if f["id"] == "dns.dnssec":
                dns_ms.append(sum(q["elapsed_ms"] for q in f["details"].get("queries", [])))
dns_ms.sort()
dns = f", DNS discovery per target median {dns_ms[len(dns_ms) // 2]} ms, max {dns_ms[-1]} ms" if dns_ms else ""
lost = collections.Counter(t["error"].split(":")[0] for t in d["targets"] if t.get("error"))
print(f"    reports: {sum(1 for t in d['targets'] if t.get('report') or t.get('inline') is not None)}/{sys.argv[2]}, UDP answered on {answered}, exit codes {dict(codes)}{dns}")
if lost:
    print(f"    incomplete: {dict(lost)}")
PY
done
if [ "${SEQUENTIAL:-0}" = 1 ]; then
  rm -rf "$work/reports"
  measure "-f $N targets --parallel 1 (the sum)" -f "$work/targets.txt" --parallel 1 -o "$work/reports" --quiet
fi

echo "a trunk of 10 UDP endpoints that silently drop REFER (SRV refer.bench.test, --timeout 3s)"
measure "default scan" refer.bench.test
scan_s=$last_s
python3 -c "import json; r=json.load(open('$work/out.txt')); p=[f['status'] for f in r['findings'] if f['id']=='sip.refer_policy']; print('    endpoints:', len(r['endpoints']), '· sip.refer_policy:', ', '.join(sorted(set(p))), 'on', len(p))"
measure "the catalog alone (--probes robustness.malformed)" refer.bench.test --probes robustness.malformed
awk -v s="$scan_s" -v c="$last_s" 'BEGIN { b = 2 * (3 + c); printf "    target 2 x (3 s timeout + %.2f s catalog) = %.2f s: %s (%.2f s)\n", c, b, (s <= b ? "met" : "NOT met"), s }'
