#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the
# dependencies, builds everything with warnings as errors, runs every test,
# then every fuzzer over its seed corpus and 20000 inputs from a fixed seed
# (scripts/fuzz.sh; clang with ASan and UBSan, in build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWATTPRINT_WERROR=ON >/dev/null
cmake --build build-test
ctest --test-dir build-test --output-on-failure -j2 --timeout 300
./scripts/fuzz.sh --runs 20000
