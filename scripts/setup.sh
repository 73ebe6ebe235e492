#!/usr/bin/env bash
# Set-up for building and running sipcheck on Debian 12: the Debian packages the build needs (a C
# toolchain and linker, pkg-config and the OpenSSL headers the DTLS code builds against, curl and CA
# certificates for rustup and cargo), then a check that Rust is 1.88 or newer. Debian 12's own cargo
# is 1.63, too old for this crate (edition 2024): when Rust is missing or older, this stops and prints
# the rustup line to run instead of letting the build fail inside the compiler.
# Run it as yourself: apt-get goes through sudo unless you are root. The test rig (the real SIP servers
# and tools the tests start) is scripts/setup-test-rig.sh, which scripts/test.sh runs.
#   scripts/setup.sh               # packages, then the Rust check
#   scripts/setup.sh --check-rust  # the Rust check alone
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential pkg-config libssl-dev curl ca-certificates)

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: apt-get needs root: run this as root, or install sudo" >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# The rust-version of Cargo.toml, so this check and the compiler's agree.
needed=$(sed -n 's/^rust-version *= *"\([0-9.]*\)"/\1/p' Cargo.toml)

# 0 when version $1 >= $2 (major.minor[.patch]).
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

check_rust() {
  local rustup_line="curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
  local found=""
  if command -v rustc >/dev/null && command -v cargo >/dev/null; then
    found=$(rustc --version | awk '{print $2}')
    if version_at_least "$found" "$needed"; then
      echo "setup: Rust $found (>= $needed): ready. Next: cargo install --locked --path ."
      return 0
    fi
  elif [ -x "$HOME/.cargo/bin/rustc" ]; then
    echo "setup: Rust is installed in ~/.cargo/bin but not on PATH; run this, then scripts/setup.sh again:" >&2
    echo "  . \"\$HOME/.cargo/env\"" >&2
    return 1
  fi
  if [ -n "$found" ]; then
    echo "setup: sipcheck needs Rust >= $needed; found $found (Debian 12's own is 1.63)." >&2
    echo "Install the current Rust with rustup (it goes first on PATH), then run scripts/setup.sh again:" >&2
  else
    echo "setup: sipcheck needs Rust >= $needed, and none is installed." >&2
    echo "Install it with rustup, then run scripts/setup.sh again:" >&2
  fi
  echo "  $rustup_line" >&2
  return 1
}

if [ "${1:-}" != --check-rust ]; then
  install_packages
fi
check_rust
