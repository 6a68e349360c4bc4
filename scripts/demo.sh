#!/usr/bin/env bash
# Sets up the machine and runs the main job: the tributary CLI on a JSON flow file, on a private redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --product tributary
.build/debug/tributary demo "${1:-flows/hello.json}"
