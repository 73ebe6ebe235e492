# Sourced by the benchmarks: two network namespaces joined by a packet-level delay line
# (bench/delay_line.py). Tools run in $NS_A (10.77.0.1), servers in $NS_B (10.77.0.2); every packet
# between them, SYN and FIN included, waits RTT/2 in each direction. Needs root and /dev/net/tun.
#   netns_up              makes both namespaces (removed again by netns_down, also on EXIT)
#   delay_start RTT_MS F  starts the delay line with counts written to F (JSON); delay_stop stops it
#   in_a CMD... / in_b CMD...   run a command in a namespace
NS_A=${NS_A:-sipcheck-bench-a}
NS_B=${NS_B:-sipcheck-bench-b}
ADDR_A=${ADDR_A:-10.77.0.1}
ADDR_B=${ADDR_B:-10.77.0.2}
DELAY_PID=
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }
netns_up() {
  local ns addr
  for ns in "$NS_A" "$NS_B"; do
    if ip netns list | grep -qw "$ns"; then echo "namespace $ns exists already" >&2; return 2; fi
  done
  for pair in "$NS_A $ADDR_A" "$NS_B $ADDR_B"; do
    read -r ns addr <<<"$pair"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev tun0 mode tun
    ip -n "$ns" addr add "$addr/24" dev tun0
    ip -n "$ns" link set tun0 up
  done
}
delay_start() { # RTT_MS COUNT_FILE
  local half
  half=$(python3 -c "print($1/2)")
  rm -f "$2"
  python3 "$(dirname "${BASH_SOURCE[0]}")/delay_line.py" "$NS_A" "$NS_B" "$half" "$2" &
  DELAY_PID=$!
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.05; done
  [ -s "$2" ] || { echo "the delay line did not start" >&2; return 2; }
}
delay_stop() {
  if [ -n "$DELAY_PID" ]; then kill "$DELAY_PID" 2>/dev/null || true; wait "$DELAY_PID" 2>/dev/null || true; fi
  DELAY_PID=
}
netns_down() {
  delay_stop
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
}
# count FILE KEY: one cumulative count from the delay line's count file
count() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
