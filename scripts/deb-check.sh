#!/usr/bin/env bash
# CI's check of the Debian package: builds it (scripts/deb.sh), installs it with dpkg -i, and runs
# what it installed: `sipcheck --version`, `man sipcheck`, the bash completion, and a probe of a
# throwaway local Kamailio (scripts/local-kamailio.sh) by /usr/bin/sipcheck. The package is removed
# again at the end unless SIPCHECK_DEB_KEEP=1, or when a sipcheck package was installed before.
# Needs root for dpkg (or sudo), and the test rig (Kamailio, man-db).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
say() { echo "deb-check: $* ($((SECONDS - start)) s)"; }

deb=$(bash scripts/deb.sh)
say "built $deb ($(du -k "$deb" | cut -f1) KB)"
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -c "$deb" >"${TMPDIR:-/tmp}/sipcheck-deb-contents.$$"
for f in ./usr/bin/sipcheck ./usr/share/man/man1/sipcheck.1.gz ./usr/share/man/man1/sipcheck-probe.1.gz \
  ./usr/share/bash-completion/completions/sipcheck ./usr/share/doc/sipcheck/copyright \
  ./usr/share/doc/sipcheck/README.md ./usr/share/sipcheck/policies/strict.toml; do
  grep -q " $f\$" "${TMPDIR:-/tmp}/sipcheck-deb-contents.$$" || { echo "deb-check: $f is not in $deb" >&2; exit 1; }
done
rm -f "${TMPDIR:-/tmp}/sipcheck-deb-contents.$$"

was_installed=0
dpkg-query -W -f='${Status}' sipcheck 2>/dev/null | grep -q 'install ok installed' && was_installed=1
"${sudo[@]}" dpkg -i "$deb"
remove() {
  if [ "${SIPCHECK_DEB_KEEP:-0}" != 1 ] && [ "$was_installed" = 0 ]; then
    "${sudo[@]}" dpkg -r sipcheck >/dev/null
  fi
}
trap remove EXIT
say "installed sipcheck $version"

got=$(/usr/bin/sipcheck --version)
[ "$got" = "sipcheck ${version%-*}" ] || { echo "deb-check: --version says '$got', the package is $version" >&2; exit 1; }
man -w sipcheck >/dev/null
MANWIDTH=80 man sipcheck 2>/dev/null | grep -q 'sipcheck' || { echo "deb-check: man sipcheck shows nothing" >&2; exit 1; }
MANWIDTH=80 man sipcheck-probe 2>/dev/null | grep -q -- '--policy' || { echo "deb-check: man sipcheck-probe lacks --policy" >&2; exit 1; }
bash -c '. /usr/share/bash-completion/completions/sipcheck && complete -p sipcheck' >/dev/null
say "sipcheck --version, man sipcheck, man sipcheck-probe and the bash completion work"

# A probe of a real local Kamailio by the installed binary: TLS, SIPS and the certificate.
. scripts/local-kamailio.sh
trap 'cleanup; remove' EXIT
card=$(/usr/bin/sipcheck probe "127.0.0.1:$port" --domain sip.test --ca-file "$dir/ca.pem" \
  --probes transport,sips --verbose)
for id in transport.tls sips.options; do
  grep -qE "^PASS +$id " <<<"$card" || { echo "deb-check: $id is not pass:" >&2; echo "$card" >&2; exit 1; }
done
say "/usr/bin/sipcheck probed a local Kamailio: transport.tls and sips.options pass"
