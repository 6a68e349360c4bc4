#!/usr/bin/env bash
# The README's first command: sets up the machine (apt packages if missing), builds the CLI, and runs a flow file
# end to end on the embedded Redis (./.tributary; `tributary server stop` stops it), with in-process workers that
# run the file's command steps, then prints the finished tree.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --product tributary
exec .build/debug/tributary run "${1:-flows/diamond.json}" --work --allow-commands
