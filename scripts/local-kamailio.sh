#!/usr/bin/env bash
# Sourced by scripts/demo.sh and bench/*.sh: starts a throwaway Kamailio on 127.0.0.1 with UDP/TCP on
# $port and TLS on $((port+1)), a fresh CA and a leaf for sip.test, in $dir; stops it on EXIT.
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
port=25060
while ss -lntu 2>/dev/null | grep -qE "127\.0\.0\.1:($port|$((port+1))) "; do port=$((port+2)); done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=demo CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=sip.test" \
  -keyout "$dir/key.pem" -out "$dir/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:sip.test,IP:127.0.0.1,URI:sip:sip.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/ext"
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 365 \
  -extfile "$dir/ext" -out "$dir/cert.pem" 2>/dev/null
mpath=$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so 2>/dev/null | head -1)")/
sed -e "s#@@TLS_METHOD@@#TLSv1.2+#" -e "s#@@CERT@@#$dir/cert.pem#" -e "s#@@KEY@@#$dir/key.pem#" \
  -e "s#@@VERIFY_CLIENT@@#no#" -e "s#@@CA_LIST@@##" \
  tests/kamailio/tls.cfg.tmpl > "$dir/tls.cfg"
listen="listen=udp:127.0.0.1:$port\nlisten=tcp:127.0.0.1:$port\nlisten=tls:127.0.0.1:$((port+1))"
sed -e "s#@@MPATH@@#$mpath#" -e "s#@@LISTEN@@#$listen#" -e "s#@@TLSCFG@@#$dir/tls.cfg#" \
  -e "s#@@MODULES@@##" -e "s#@@MODPARAMS@@##" -e "s#@@ROUTE@@##" tests/kamailio/kamailio.cfg.tmpl > "$dir/kamailio.cfg"
kamailio -f "$dir/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$dir" -w "$dir" >"$dir/kamailio.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  ss -lnt 2>/dev/null | grep -q "127.0.0.1:$((port+1)) " && break
  sleep 0.1
done
