#!/usr/bin/env bash
# Installs the dependencies, builds wattprint, installs it to /usr/local/bin,
# and measures a short sample workload with it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target wattprint_cli
cmake --install build --component Unspecified >/dev/null
echo "+ wattprint run -- sh -c '<count to 300000>'" >&2
exec wattprint run -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo "counted to $i"'
