#!/usr/bin/env bash
# Sourced by scripts/demo.sh and bench/*.sh: starts a throwaway Kamailio on 127.0.0.1 with UDP/TCP on
# $port and TLS on $((port+1)), a fresh CA and a leaf for sip.test, in $dir; stops it on EXIT.
# KAMAILIO_NETNS=NS runs it inside network namespace NS on KAMAILIO_ADDR (the benchmarks' delay line).
addr=${KAMAILIO_ADDR:-127.0.0.1}
inns=()
[ -n "${KAMAILIO_NETNS:-}" ] && inns=(ip netns exec "$KAMAILIO_NETNS")
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
port=25060
while "${inns[@]}" ss -lntu 2>/dev/null | grep -qE "$addr:($port|$((port+1))) "; do port=$((port+2)); done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=demo CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=sip.test" \
  -keyout "$dir/key.pem" -out "$dir/leaf.csr" 2>/dev/null
san="DNS:sip.test,IP:127.0.0.1,URI:sip:sip.test"
[ "$addr" != 127.0.0.1 ] && san="$san,IP:$addr"
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > "$dir/ext"
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 365 \
  -extfile "$dir/ext" -out "$dir/cert.pem" 2>/dev/null
mpath=$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so 2>/dev/null | head -1)")/
sed -e "s#@@TLS_METHOD@@#TLSv1.2+#" -e "s#@@CERT@@#$dir/cert.pem#" -e "s#@@KEY@@#$dir/key.pem#" \
  -e "s#@@VERIFY_CLIENT@@#no#" -e "s#@@CA_LIST@@##" \
  tests/kamailio/tls.cfg.tmpl > "$dir/tls.cfg"
listen="listen=udp:$addr:$port\nlisten=tcp:$addr:$port\nlisten=tls:$addr:$((port+1))"
sed -e "s#@@MPATH@@#$mpath#" -e "s#@@LISTEN@@#$listen#" -e "s#@@TLSCFG@@#$dir/tls.cfg#" \
  -e "s#@@MODULES@@##" -e "s#@@MODPARAMS@@##" -e "s#@@ROUTE@@##" tests/kamailio/kamailio.cfg.tmpl > "$dir/kamailio.cfg"
"${inns[@]}" kamailio -f "$dir/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$dir" -w "$dir" >"$dir/kamailio.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  "${inns[@]}" ss -lnt 2>/dev/null | grep -q "$addr:$((port+1)) " && break
  sleep 0.1
done
