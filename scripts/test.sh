#!/usr/bin/env bash
# The test command: installs the test rig when anything is missing (scripts/setup-test-rig.sh: Debian
# packages through apt-get, with sudo unless root), then runs `cargo test --locked` with the arguments
# given (`scripts/test.sh --test peers tls_openssl` runs one file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-rig.sh
exec cargo test --locked "$@"
