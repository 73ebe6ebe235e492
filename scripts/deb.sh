#!/usr/bin/env bash
# Builds the Debian package target/debian/sipcheck_<version>-1_<arch>.deb with cargo-deb (from
# crates.io, installed when missing): the release binary (`cargo build --release`, a no-op after
# `cargo install --locked --path .` or another release build), the man pages and shell completions
# the binary writes, and the files listed in Cargo.toml's [package.metadata.deb]. Prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_deb_version=3.8.0
target="${CARGO_TARGET_DIR:-target}"
if ! cargo deb --version >/dev/null 2>&1; then
  echo "deb: installing cargo-deb $cargo_deb_version from crates.io" >&2
  cargo install cargo-deb --locked --version "$cargo_deb_version" >&2
fi
cargo build --release --locked >&2
bin="$target/release/sipcheck"
assets="$target/release/deb"
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions"
"$bin" manpage --dir "$assets/man"
gzip -9n "$assets"/man/*.1
"$bin" completions bash >"$assets/completions/sipcheck.bash"
"$bin" completions zsh >"$assets/completions/_sipcheck"
"$bin" completions fish >"$assets/completions/sipcheck.fish"
cargo deb --no-build >&2
ls -t "$target"/debian/sipcheck_*.deb | head -1
