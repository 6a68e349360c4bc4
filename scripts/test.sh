#!/usr/bin/env bash
# Sets up the machine (apt packages) and runs the whole test suite. Each integration test starts its own
# private redis-server; nothing depends on a Redis someone else started.
#
# Two passes: Swift Testing runs tests in parallel, and the heavy suites (fault injection with worker processes,
# 10,000-item maps, 3,000-node drawings, 9,000 active jobs, the Python peer's long interop runs, the model test)
# would otherwise starve the timing-sensitive worker tests on a 2-core machine. The heavy ones run second.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --build-tests
heavy='TributaryTests\.(ChaosTests|FlowMapLargeTests|DoctorModelTests|InteropTests|CLIRunTests|FlowRunViewTests|StalledCheckTests|CLIWorkerRecoveryTests)'
swift test --skip-build --skip "$heavy" "$@"
swift test --skip-build --filter "$heavy" "$@"
