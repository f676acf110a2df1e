#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan, UBSan) in build-fuzz/ and runs
# each over its committed seed corpus (fuzz/corpus/NAME), then for SECONDS
# more of new inputs. New inputs go to build-fuzz/corpus/NAME, never into
# the committed corpus; a finding goes to build-fuzz/findings/ and fails the
# script.
#
# Usage: scripts/fuzz.sh [SECONDS per harness, default 300] [NAME...]
#        scripts/fuzz.sh --runs N [NAME...]
# The first explores: new inputs each time, for as long as it is given. The
# second is what ./scripts/test.sh runs: N inputs per harness from a fixed
# seed and the committed corpus alone. The same binary tries the same
# inputs; a binary built elsewhere (another checkout path, another commit)
# may take other paths, so a new finding can still appear: it is a real bug,
# fixed and its input added to the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=()
if [ "${1:-}" = --runs ]; then
  [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs needs a count" >&2; exit 2; }
  budget=(-seed=1 -runs="$2")
  what="$2 inputs from seed 1"
  shift 2
else
  seconds=${1:-300}
  [[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: '$seconds' is not a number of seconds" >&2; exit 2; }
  shift || true
  budget=(-max_total_time="$seconds")
  what="$seconds s"
fi
if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed'; then
  ./scripts/setup-deps.sh
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DWATTPRINT_FUZZ=ON -DWATTPRINT_WERROR=ON \
  -DWATTPRINT_BUILD_TESTS=OFF -DWATTPRINT_BUILD_BENCH=OFF -DWATTPRINT_BUILD_PYTHON=OFF >/dev/null
cmake --build build-fuzz --target fuzzers
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do names+=("$(basename "$d")"); done
fi
mkdir -p build-fuzz/findings
failed=()
for name in "${names[@]}"; do
  # A fixed-seed run starts from the committed seeds alone, so that what it
  # tries does not depend on what earlier runs left behind.
  [ "${budget[0]}" = -seed=1 ] && rm -rf "build-fuzz/corpus/$name"
  mkdir -p "build-fuzz/corpus/$name"
  dict=()
  [ -f "fuzz/dict/$name.dict" ] && dict=(-dict="fuzz/dict/$name.dict")
  echo "+ $name: the seed corpus, then $what" >&2
  # The seeds alone first: each must pass, whatever the time budget.
  if ! "build-fuzz/fuzz/$name" -runs=0 "${dict[@]}" "fuzz/corpus/$name" >"build-fuzz/$name.log" 2>&1 ||
     ! ASAN_OPTIONS=detect_leaks=1 "build-fuzz/fuzz/$name" "${budget[@]}" -timeout=10 \
         -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 "${dict[@]}" \
         -artifact_prefix="build-fuzz/findings/$name-" \
         "build-fuzz/corpus/$name" "fuzz/corpus/$name" >>"build-fuzz/$name.log" 2>&1; then
    echo "FAILED: $name (build-fuzz/$name.log; inputs in build-fuzz/findings/)" >&2
    tail -30 "build-fuzz/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build-fuzz/$name.log" | tail -1 >&2 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#names[@]} harnesses clean" >&2
