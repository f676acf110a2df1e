#!/usr/bin/env bash
# Install everything wattprint needs to build and test on Debian 12, as root.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest python3-dev python3-pybind11 python3-pip python3-setuptools python3-wheel
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
