#!/usr/bin/env bash
# Sets up the machine (apt packages) and runs the whole test suite. Each integration test starts its own
# private redis-server; nothing depends on a Redis someone else started.
#
# Three passes: Swift Testing runs the tests of one invocation in parallel, and on a 2-core machine the suites
# that start processes (CLI commands, worker processes, the Python peer) and the heavy ones (fault injection,
# 10,000-item maps, 3,000-node drawings, 9,000 active jobs, the model test) starve the timing-sensitive worker
# tests. In-process tests run first, process-driven ones second, heavy ones last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --build-tests
heavy='ChaosTests|FlowMapLargeTests|DoctorModelTests|InteropTests|CLIRunTests|FlowRunViewTests|StalledCheckTests|CLIWorkerRecoveryTests'
processes='CLI[A-Za-z]*Tests|Dashboard[A-Za-z]*Tests|WorkerProcessTests|PythonPeerTests|Interop[A-Za-z]+Tests|RedisReconnectTests|RedisTimeoutTests|WorkerLockLossTests|ExamplesTests|DeployRecipeTests|FlowMapRedriveTests|FlowExistingChildTests'
# The Redis Cluster suites start two 6-node clusters and kill a master: in a pass of their own, so that the
# timing-sensitive reconnect and lock-loss tests do not run beside them (a fresh-clone run saw them stalled 32 s).
cluster='RedisCluster[A-Za-z]*Tests|CLIClusterTests|InteropClusterTests|MultiHostTests'
swift test --skip-build --skip "TributaryTests\.($heavy|$processes|$cluster)" "$@"
swift test --skip-build --filter "TributaryTests\.($processes)" --skip "TributaryTests\.($heavy|$cluster)" "$@"
swift test --skip-build --filter "TributaryTests\.($cluster)" "$@"
swift test --skip-build --filter "TributaryTests\.($heavy)" "$@"
