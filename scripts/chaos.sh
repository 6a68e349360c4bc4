#!/usr/bin/env bash
# The long fault-injection run: tributary worker processes killed with SIGKILL during long command steps
# (50 kills over a 200-node run: with 60 nodes the run ends after about 20), redis-server shut down and killed with AOF on and restarted (6 rounds, each
# followed by CLIENT KILL rounds), and the doctor's check at the end. CI runs the short version of the same
# tests (Tests/TributaryTests/ChaosTests.swift) as part of scripts/test.sh.
#
#   bash scripts/chaos.sh                      # the long version
#   TRIBUTARY_CHAOS_KILLS=100 bash scripts/chaos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export TRIBUTARY_CHAOS_KILLS="${TRIBUTARY_CHAOS_KILLS:-50}"
export TRIBUTARY_CHAOS_NODES="${TRIBUTARY_CHAOS_NODES:-200}"
export TRIBUTARY_CHAOS_ROUNDS="${TRIBUTARY_CHAOS_ROUNDS:-6}"
export TRIBUTARY_MODEL_STEPS="${TRIBUTARY_MODEL_STEPS:-1000}"
swift build --build-tests
swift test --skip-build --filter 'TributaryTests.ChaosTests|TributaryTests.DoctorModelTests' 2>&1 | tee .build/chaos.log
grep -E '^(chaos|doctor model test):' .build/chaos.log || true
