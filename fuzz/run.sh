#!/usr/bin/env bash
# Runs the fuzz targets, one after the other, and prints libFuzzer's final
# figures for each (docs/fuzzing.md).
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]   each target for SECONDS (900)
#   bash fuzz/run.sh --smoke                 CI: every target, briefly
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Works on stable
# Rust: RUSTC_BOOTSTRAP=1 lets it take any unstable flag cargo-fuzz passes.
# New inputs go to fuzz/corpus/TARGET (kept between runs), crashes to
# fuzz/artifacts/TARGET/, the log to fuzz/artifacts/TARGET.log. The seeds
# (fuzz/seeds/TARGET, tests/data) are only read; so is $DMARC_CORPUS when
# set. Exits non-zero if any target found a crash, a hang (an input taking
# over 10 s) or memory use over 2 GiB.
set -euo pipefail
cd "$(dirname "$0")/.."

# No sanitizer: the code under test is safe Rust, so AddressSanitizer would
# find little and cost half the executions. Optimised, with debug assertions
# and overflow checks in every crate (cargo-fuzz's default): an overflow, or
# a state a dependency's authors assert cannot happen, is a crash here, as
# it is in a debug build of the daemon.
build=(--sanitizer none)
seconds=900
if [[ "${1:-}" == "--smoke" ]]; then
  # Unoptimised: builds in a quarter of the time and runs a few times
  # slower, the better bargain for 20 seconds.
  build+=(--dev)
  seconds=20
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(extract_message parse_aggregate parse_tls_report smtp_session)
fi

export RUSTC_BOOTSTRAP=1
cargo fuzz build "${build[@]}"

# Longest input per target: a report mail with a zip in base64 fits 16 KiB.
declare -A max_len=([extract_message]=16384 [parse_aggregate]=8192 [parse_tls_report]=8192 [smtp_session]=4096)

failed=()
for target in "${targets[@]}"; do
  seeds=(fuzz/seeds/"$target")
  case "$target" in
    extract_message) [[ -d "${DMARC_CORPUS:-}" ]] && seeds+=("$DMARC_CORPUS") ;;
    parse_aggregate)
      seeds+=(tests/data)
      [[ -d "${DMARC_CORPUS:-}/aggregate" ]] && seeds+=("$DMARC_CORPUS/aggregate")
      ;;
    parse_tls_report)
      [[ -d "${DMARC_CORPUS:-}/tlsrpt" ]] && seeds+=("$DMARC_CORPUS/tlsrpt")
      ;;
  esac
  mkdir -p fuzz/corpus/"$target" fuzz/artifacts/"$target"
  log=fuzz/artifacts/"$target".log
  echo "== $target: ${seconds}s, log $log"
  if ! cargo fuzz run "${build[@]}" "$target" fuzz/corpus/"$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$target]:-4096}" -dict=fuzz/dicts/"$target".dict \
    -print_final_stats=1 >"$log" 2>&1; then
    failed+=("$target")
    grep -E -A2 'panicked at|ERROR: libFuzzer|^Failing input' "$log" | head -n 20 || true
  fi
  # The last status line (cov:, ft:, corp:, exec/s) and the final figures.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
  grep -E '^stat::' "$log" || true
  echo "corpus: $(find fuzz/corpus/"$target" -type f | wc -l) inputs"
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
