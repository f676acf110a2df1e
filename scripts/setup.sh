#!/usr/bin/env bash
# Installs the dependencies, builds wattprint, installs it to /usr/local/bin
# (with the Slurm plugin in /usr/local/lib/wattprint where Slurm is installed),
# the C API and Fortran module with their CMake and pkg-config files
# (/usr/local/lib, /usr/local/include/wattprint; docs/C_API.md)
# and the Python package for /usr/bin/python3,
# and measures a short sample workload with it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# The Slurm plugin too, where Slurm's spank.h made CMake configure it.
targets=(wattprint_cli wattprint_libraries)
if ninja -C build -t targets all 2>/dev/null | grep -q '^wattprint_spank:'; then targets+=(wattprint_spank); fi
cmake --build build --target "${targets[@]}"
cmake --install build --component Unspecified >/dev/null
cmake --install build --component capi >/dev/null
# /usr/local/lib is on the loader's path; its cache learns of libwattprint.so.0.
ldconfig
# The Python package, for /usr/bin/python3 (docs/PYTHON.md), from the same build.
WATTPRINT_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pip install -q --no-build-isolation --no-deps \
  --break-system-packages --root-user-action=ignore ./python
/usr/bin/python3 -c 'import wattprint; print("+ import wattprint: ok, version", wattprint.__version__)' >&2
# The sample run sends nothing off this machine: the cloud metadata probe
# (169.254.169.254) is turned off, so the location comes from the time zone.
echo "+ wattprint run --no-cloud-metadata -- sh -c '<count to 300000>'   (cloud metadata probe off: no network)" >&2
exec wattprint run --no-cloud-metadata -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo "counted to $i"'
