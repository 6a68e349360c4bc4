#!/usr/bin/env bash
# Redis cost of processing one plain job, counted in instructions, which machine load does not change.
#
#   bash scripts/redis-cost.sh [--jobs N] [--concurrency C] [--impl tributary|python|both] [--metrics P]
#
# A private redis-server runs under valgrind's callgrind. Python bullmq adds N plain jobs (default 3,000); then the
# counters are zeroed and a worker (Tributary's EchoWorker example, or a Python bullmq worker) processes them at
# concurrency C (default 50). Printed per processed job: redis-server instructions in all and inside EVALSHA, and
# Redis commands (INFO commandstats, scripts' inner calls included) with the busiest commands. Under callgrind Redis
# runs about 50x slower, so it is the bottleneck and the worker's build (debug here) does not matter.
# --metrics P: both workers write BullMQ's per-minute metrics, keeping P points (off by default, as in BullMQ).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=3000 concurrency=50 impl=both metrics=
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --impl) impl="$2"; shift 2 ;;
    --metrics) metrics="$2"; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null \
  || { echo "redis-cost needs valgrind (apt-get install valgrind)" >&2; exit 2; }
source scripts/setup.sh
if [ "$impl" != python ]; then
  swift build --product EchoWorker >&2
  echo_worker="$(swift build --show-bin-path)/EchoWorker"
fi

measure() {  # measure NAME: one run with the worker named by $1
  local name="$1" dir sock rpid wpid
  dir="$(mktemp -d /tmp/tributary-redis-cost.XXXXXX)"
  sock="$dir/redis.sock"
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" redis-server --port 0 --unixsocket "$sock" \
    --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
  rpid=$!
  for _ in $(seq 300); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.2; done
  .venv/bin/python - "$sock" "$jobs" <<'PY'
import asyncio, sys
from bullmq import Queue
async def main():
    queue = Queue("cost", {"connection": f"unix://{sys.argv[1]}"})
    count = int(sys.argv[2])
    for start in range(0, count, 1000):
        await queue.addBulk([{"name": "echo", "data": {"i": i}} for i in range(start, min(count, start + 1000))])
    await queue.close()
asyncio.run(main())
PY
  redis-cli -s "$sock" config resetstat >/dev/null
  callgrind_control --zero "$rpid" >/dev/null 2>&1
  if [ "$name" = tributary ]; then
    "$echo_worker" "unix://$sock" cost --concurrency "$concurrency" ${metrics:+--metrics-points "$metrics"} \
      >/dev/null 2>"$dir/worker.log" &
  else
    .venv/bin/python - "$sock" "$concurrency" "$metrics" >/dev/null 2>"$dir/worker.log" <<'PY' &
import asyncio, sys
from bullmq import Worker
async def main():
    async def handler(job, token):
        return {"by": "python", "echo": job.data}
    options = {"connection": f"unix://{sys.argv[1]}", "concurrency": int(sys.argv[2])}
    if sys.argv[3]:
        options["metrics"] = {"maxDataPoints": int(sys.argv[3])}
    worker = Worker("cost", handler, options)
    await asyncio.Event().wait()
asyncio.run(main())
PY
  fi
  wpid=$!
  while [ "$(redis-cli -s "$sock" zcard bull:cost:completed)" -lt "$jobs" ]; do sleep 0.2; done
  kill "$wpid"; wait "$wpid" 2>/dev/null || true
  redis-cli -s "$sock" info commandstats | tr -d '\r' >"$dir/commandstats.txt"
  callgrind_control --dump "$rpid" >/dev/null 2>&1
  sleep 1
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  callgrind_annotate --inclusive=yes "$(ls -t "$dir"/callgrind.out.* | head -1)" >"$dir/annotated.txt" 2>/dev/null
  python3 - "$name" "$jobs" "$dir/annotated.txt" "$dir/commandstats.txt" <<'PY'
import re, sys
name, jobs, annotated, stats = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def inclusive(function):
    for line in open(annotated):
        if re.search(r"[:?]" + function + r" ", line):
            return int(line.split()[0].replace(",", ""))
    return 0
total = next(int(l.split()[0].replace(",", "")) for l in open(annotated) if "PROGRAM TOTALS" in l)
calls = {}
for line in open(stats):
    if line.startswith("cmdstat_"):
        command, fields = line[len("cmdstat_"):].split(":", 1)
        if command not in ("info", "zcard", "config|resetstat"):
            calls[command] = int(dict(f.split("=") for f in fields.split(","))["calls"])
busiest = sorted(calls.items(), key=lambda item: -item[1])[:8]
print(f"{name}: {total / jobs:,.0f} redis-server instructions per job ({inclusive('evalGenericCommand') / jobs:,.0f} "
      f"inside scripts), {sum(calls.values()) / jobs:.1f} commands per job: "
      + ", ".join(f"{command} {count / jobs:.2f}" for command, count in busiest))
PY
  rm -rf "$dir"
}

[ "$impl" = python ] || measure tributary
[ "$impl" = tributary ] || measure python
