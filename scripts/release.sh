#!/usr/bin/env bash
# Package a built provider binary the way the Terraform Registry expects:
#   terraform-provider-kore_<version>_<platform>.zip   with terraform-provider-kore_v<version>
#   terraform-provider-kore_<version>_manifest.json    copy of terraform-registry-manifest.json
#   terraform-provider-kore_<version>_SHA256SUMS       checksums of the two files above
# Usage: scripts/release.sh BINARY VERSION PLATFORM OUTPUT_DIR   (called by `make release`)
# Uses zip when it is installed, else Python's zipfile module.
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 BINARY VERSION PLATFORM OUTPUT_DIR" >&2
    exit 2
fi
binary=$1 version=$2 platform=$3 output_dir=$4
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=terraform-provider-kore
manifest="$repo_root/terraform-registry-manifest.json"

[[ -x $binary ]] || { echo "release: $binary is missing or not executable; build it first" >&2; exit 1; }
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "release: invalid version '$version'" >&2; exit 1; }
[[ -f $manifest ]] || { echo "release: $manifest is missing" >&2; exit 1; }

mkdir -p "$output_dir"
output_dir=$(cd "$output_dir" && pwd)
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# The registry requires the binary inside the zip to be named <name>_v<version>.
install -m 755 "$binary" "$staging/${name}_v$version"

zip_name="${name}_${version}_${platform}.zip"
manifest_name="${name}_${version}_manifest.json"
sums_name="${name}_${version}_SHA256SUMS"
rm -f "$output_dir/$zip_name"
if command -v zip >/dev/null; then
    (cd "$staging" && zip -q -X "$output_dir/$zip_name" "${name}_v$version")
else
    python3 - "$staging/${name}_v$version" "$output_dir/$zip_name" <<'EOF'
import os
import sys
import zipfile

source, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    # arcname keeps only the file name. ZipFile.write stores the file's mode bits.
    archive.write(source, arcname=os.path.basename(source))
EOF
fi

cp "$manifest" "$output_dir/$manifest_name"
(cd "$output_dir" && sha256sum "$zip_name" "$manifest_name" >"$sums_name")

echo "release: $output_dir/$zip_name"
echo "release: $output_dir/$manifest_name"
echo "release: $output_dir/$sums_name"
