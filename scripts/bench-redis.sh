#!/usr/bin/env bash
# Builds the Redis micro-benchmark in release and runs it against a private redis-server, beside redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product TributaryBenchmarks
.build/release/TributaryBenchmarks "$@"
