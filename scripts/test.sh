#!/usr/bin/env bash
# Sets up the machine (apt packages) and runs the whole test suite. Each integration test starts its own
# private redis-server; nothing depends on a Redis someone else started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
