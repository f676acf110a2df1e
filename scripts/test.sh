#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the
# dependencies, builds everything with warnings as errors, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWATTPRINT_WERROR=ON >/dev/null
cmake --build build-test
ctest --test-dir build-test --output-on-failure -j2 --timeout 300
