#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 10), JOBS at a time (default 2), under
# `nice -n 19`, from its seed corpus in fuzz/corpus/<target>/. New inputs go to fuzz/work/<target>/
# (git-ignored) so the committed corpus stays small. Prints each target's "Done N runs in S s".
# Without a nightly toolchain it says it skips: tests/offline/fuzz_corpus.rs already ran the same properties
# over the seeds in `cargo test`. Without cargo-fuzz it installs it (`cargo install cargo-fuzz
# --locked`, about 2 minutes once) unless SIPCHECK_FUZZ_INSTALL=0. SIPCHECK_FUZZ_SANITIZER (default
# address) is passed to cargo fuzz: CI's smoke run uses `none`, which builds and runs faster.
# SIPCHECK_FUZZ_DEV=1 builds without optimisations (`cargo fuzz --dev`): a fresh build takes a fraction
# of the time, which is what a short smoke run on a new machine pays for.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-${SIPCHECK_FUZZ_SECONDS:-10}}"
shift || true
jobs="${SIPCHECK_FUZZ_JOBS:-2}"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped (no nightly toolchain); the seed corpus went through the same properties in cargo test"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    if [ "${SIPCHECK_FUZZ_INSTALL:-1}" != 1 ] || ! cargo install cargo-fuzz --locked; then
        echo "fuzz: skipped (cargo-fuzz is not installed); the seed corpus went through the same properties in cargo test"
        exit 0
    fi
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
# Debug assertions on: an arithmetic overflow is a finding, as it is in the debug build of cargo test.
san="${SIPCHECK_FUZZ_SANITIZER:-address}"
mode=""
[ "${SIPCHECK_FUZZ_DEV:-0}" = 1 ] && mode="--dev"
nice -n 19 cargo +nightly fuzz build $mode --debug-assertions --sanitizer "$san"
dict_of() {
    case "$1" in
        tls_answer | cert_der) echo dict/tls.dict ;;
        sdp | srtp) echo dict/sdp.dict ;;
        sip_* | evidence_redaction | digest_challenge | catalog_template) echo dict/sip.dict ;;
        report_render) echo dict/markup.dict ;;
    esac
}
run_one() {
    local t="$1" dict
    dict="$(dict_of "$t")"
    mkdir -p "work/$t"
    if nice -n 19 cargo +nightly fuzz run $mode --debug-assertions --sanitizer "$san" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb="${SIPCHECK_FUZZ_RSS_MB:-1024}" \
        ${dict:+-dict=$dict} >"work/$t.log" 2>&1; then
        echo "fuzz $t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "work/$t.log" | tail -1)"
    else
        echo "fuzz $t: FAILED (fuzz/work/$t.log; the input is under fuzz/artifacts/$t/)"
        tail -n 40 "work/$t.log"
        return 1
    fi
}
export -f run_one dict_of
export secs san mode
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}
