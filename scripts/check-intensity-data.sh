#!/usr/bin/env bash
# Regenerates the grid-intensity data into a temporary directory and fails
# when it differs from the committed data/intensity/ (ctest
# intensity_data_fresh). Needs the npm registry; fails loudly without it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$repo/scripts/gen-intensity-data.sh" "$tmp/intensity"
if ! diff -ru "$repo/data/intensity" "$tmp/intensity"; then
  echo "check-intensity-data: data/intensity differs from what the pinned package produces;" \
       "run scripts/gen-intensity-data.sh and commit the result" >&2
  exit 1
fi
echo "check-intensity-data: data/intensity matches the pinned package"
