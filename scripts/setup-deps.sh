#!/usr/bin/env bash
# Install everything wattprint needs to build and test on Debian 12, as root.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libcpp-httplib-dev
  libsqlite3-dev libpq-dev libssl-dev postgresql-15 prometheus-cpp-dev prometheus
  python3 python3-pytest python3-dev python3-pybind11 python3-pip python3-setuptools python3-wheel python3-pyte python3-pandas prometheus-pushgateway
  clang libclang-rt-14-dev
  iso-codes tzdata
  chromium fonts-dejavu-core
  slurmd slurmctld slurm-client munge libslurm-dev
  gfortran openmpi-bin
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
# node and npm regenerate and check the grid-intensity data
# (scripts/gen-intensity-data.sh); a NodeSource node already carries npm.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
# The dashboard's chart library (built into the collector) and the browser
# driver its tests use, at the versions and integrity hashes that
# web/package-lock.json pins.
npm ci --prefix "$(dirname "$0")/../web" --no-audit --no-fund --loglevel=error
