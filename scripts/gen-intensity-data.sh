#!/usr/bin/env bash
# Regenerates data/intensity/*.csv from the pinned @tgwf/co2 npm package,
# Debian's iso-codes and data/subnational_zones.csv.
#
# usage: scripts/gen-intensity-data.sh [OUT_DIR]   (default: data/intensity)
#
# The package is fetched with `npm pack` into a temporary directory (never
# into the repository) and checked against the pinned integrity hash. To
# move to a newer release, change both pins below, rerun, and review the diff.
set -euo pipefail

CO2JS_VERSION=0.19.0
CO2JS_INTEGRITY=sha512-3VkpB5H6OGQF2P6nESbThVEOfQrFjBz8wBDTEmhbJ4uEi67TsMt+Oyq7YOweOdUkSOJBPsezjf/5i/ScXgqGDA==
ISO_DIR=${ISO_CODES_JSON_DIR:-/usr/share/iso-codes/json}

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/data/intensity}

die() { echo "gen-intensity-data: $*" >&2; exit 1; }
command -v node >/dev/null || die "node not found; run scripts/setup-deps.sh"
command -v npm >/dev/null || die "npm not found; run scripts/setup-deps.sh"
[ -r "$ISO_DIR/iso_3166-1.json" ] || die "$ISO_DIR/iso_3166-1.json missing; install Debian's iso-codes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent --fetch-retries=1 --fetch-timeout=30000 \
        "@tgwf/co2@$CO2JS_VERSION" >pack.log 2>&1); then
  cat "$tmp/pack.log" >&2
  die "cannot fetch @tgwf/co2@$CO2JS_VERSION from the npm registry (network or registry down?)"
fi
tarball="$tmp/tgwf-co2-$CO2JS_VERSION.tgz"
[ -f "$tarball" ] || die "npm pack produced no $tarball"
got=sha512-$(node -e 'const c=require("crypto");process.stdout.write(c.createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")
[ "$got" = "$CO2JS_INTEGRITY" ] || die "integrity mismatch for @tgwf/co2@$CO2JS_VERSION: $got"
tar -xzf "$tarball" -C "$tmp"

iso_version=$(dpkg-query -W -f='${Version}' iso-codes 2>/dev/null || echo unknown)
mkdir -p "$out"
ISO_CODES_VERSION=$iso_version node "$repo/scripts/gen_intensity_data.js" \
  "$tmp/package" "$ISO_DIR" "$repo" "$out"
echo "gen-intensity-data: wrote $out from @tgwf/co2@$CO2JS_VERSION"
