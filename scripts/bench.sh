#!/usr/bin/env bash
# Queue and flow benchmark, Tributary beside Python bullmq 3.4.4 on one private redis-server.
# Builds the release benchmark, makes sure the Python venv exists, runs every scenario --runs times (default 3)
# and prints a Markdown table of medians. Options (passed through):
#   --runs N            runs per scenario and implementation (default 3)
#   --only P1,P5        run only these scenarios
#   --scale F           multiply every job count by F (e.g. 0.1 for a quick check)
#   --count P4=20000    set one scenario's count (P1 jobs, P2 flows, P3/P4 children, P5 adds, P6 width,
#                       P7 map items, P8 seconds of an every-1 s job scheduler, P9 nodes of a chain)
#   --impl tributary    run one side only (tributary, python or both)
#   --concurrency N     worker concurrency (default 50);  --gap-ms N  P5 gap between adds (default 10)
#   --tcp               TCP on 127.0.0.1 instead of a unix socket
# Before the queue scenarios, S1 draws a 100,000-node run with `tributary flow show` in every format
# (SHOW_NODES=N for another size; --only S1 runs just that). D1 loads each dashboard page 100 times on a
# 100,000-job queue and a 10,000-node run (--only D1 runs just that; DASHBOARD_JOBS / DASHBOARD_NODES for sizes).
# X1/X2 (docs/scaling.md): 1, 2 and 4 worker processes on one Redis; three queues on one Redis and on a 3-master
# cluster; jobs/s and CPU per job of Redis and workers (--only X1 or X2 runs just that; SCALE_JOBS=N per queue).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product TributaryBenchmarks >&2
# D1: the dashboard's pages, p50/p99 over 100 loads and the Redis commands of one load.
if [[ " $* " != *" --only "* || "$*" == *D1* ]]; then
  .build/release/TributaryBenchmarks dashboard --jobs "${DASHBOARD_JOBS:-100000}" --nodes "${DASHBOARD_NODES:-10000}"
  if [[ "$*" == *"--only D1"* && "$*" != *","* ]]; then exit 0; fi
fi
# X1, X2: scaling over worker processes and cluster masters.
if [[ " $* " != *" --only "* || "$*" == *X1* || "$*" == *X2* ]]; then
  only=()
  if [[ "$*" == *X1* && "$*" != *X2* ]]; then only=(--only X1); elif [[ "$*" == *X2* && "$*" != *X1* ]]; then only=(--only X2); fi
  .build/release/TributaryBenchmarks scale --jobs "${SCALE_JOBS:-30000}" "${only[@]}"
  if [[ "$*" == *"--only X"* && "$*" != *P* && "$*" != *S1* && "$*" != *D1* ]]; then exit 0; fi
fi
# S1: a 100,000-node run (two shapes) submitted and drawn by `flow show` in every format: wall time and peak RSS.
# Runs unless --only names other scenarios (--only S1 runs it alone); SHOW_NODES=N changes the size.
if [[ " $* " != *" --only "* || "$*" == *S1* ]]; then
  swift build -c release --product tributary >&2
  .build/release/TributaryBenchmarks show --nodes "${SHOW_NODES:-100000}" --tributary .build/release/tributary
  if [[ "$*" == *"--only S1"* && "$*" != *","* ]]; then exit 0; fi
fi
exec .build/release/TributaryBenchmarks queue --python .venv/bin/python --python-client benchmarks/python/bench_client.py "$@"
