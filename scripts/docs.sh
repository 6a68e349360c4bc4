#!/usr/bin/env bash
# Builds the API reference of the Tributary library (DocC: symbol docs and the articles in
# Sources/Tributary/Tributary.docc) as static HTML, through swift-docc-plugin.
#
#   bash scripts/docs.sh [OUTPUT_DIR]          (default .build/docs)
#
# Open OUTPUT_DIR/documentation/tributary/index.html through a web server (`python3 -m http.server -d OUTPUT_DIR`,
# then http://localhost:8000/documentation/tributary/); set TRIBUTARY_DOCS_BASE_PATH=name when the site is served
# under /name/ (GitHub Pages). Warnings, such as a broken ``Symbol`` link or an undocumented parameter, fail
# the build, and so does a public symbol without a documentation comment (scripts/undocumented.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
setup_python=no
source scripts/setup.sh
output="${1:-.build/docs}"
mkdir -p "$output"
output="$(cd "$output" && pwd)"
base_path=()
[ -z "${TRIBUTARY_DOCS_BASE_PATH:-}" ] || base_path=(--hosting-base-path "$TRIBUTARY_DOCS_BASE_PATH")
swift package --allow-writing-to-directory "$output" generate-documentation --target Tributary \
    --output-path "$output" --transform-for-static-hosting "${base_path[@]}" --warnings-as-errors
echo "docs: $output/documentation/tributary/index.html"
# Every public symbol documented: checked on the symbol graph the plugin just extracted.
graphs="$(ls -dt .build/*/extracted-symbols/*/Tributary 2>/dev/null | head -1)"
bash scripts/undocumented.sh "$graphs"
