#!/usr/bin/env python3
"""The Python bullmq side of one queue-benchmark scenario (Tributary's benchmark, scripts/bench.sh).

Started by `TributaryBenchmarks queue` as a child process; its Swift twin is
Sources/TributaryBenchmarks/TributaryClient.swift. Both do the same thing in the same order.

Usage: bench_client.py --redis URL --scenario P1..P8 --role producer|worker --count N --children C
                       --concurrency C --gap-ms G

Line protocol on stdout/stdin: the client prints READY, BEGIN <phase>, END <phase> <json> or
RESULT <json>, then waits for a line "go" from the runner, which samples CPU and Redis counters
at BEGIN and END. Diagnostics go to stderr.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time

import redis.asyncio as aioredis
from bullmq import FlowProducer, Queue, WaitingChildrenError, Worker

QUEUE = "bench"


async def say(line):
    """Writes one protocol line and waits for the runner's "go" without blocking the event loop."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    answer = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if answer.strip() != "go":
        raise RuntimeError(f"the runner answered {answer!r} instead of go")


async def phase(name, jobs, body, flows=None, extras=None):
    """Announces a phase, times `body()` after the runner's go, then reports the counts (and `await extras()`)."""
    await say(f"BEGIN {name}")
    start = time.perf_counter()
    await body()
    elapsed = time.perf_counter() - start
    result = {"elapsed": elapsed, "jobs": jobs}
    if flows is not None:
        result["flows"] = flows
    if extras is not None:
        result.update(await extras())
    await say(f"END {name} {json.dumps(result)}")


async def close_worker(worker):
    """Closes a worker, giving up after 15 s (the measurement is over by then)."""
    try:
        await asyncio.wait_for(worker.close(), 15)
    except asyncio.TimeoutError:
        print("bench_client: worker.close() did not return within 15 s", file=sys.stderr)


def microseconds_since_epoch():
    return time.time_ns() // 1000


def percentile(values, fraction):
    """Nearest-rank percentile of sorted values."""
    if not values:
        return 0
    rank = math.ceil(fraction * len(values))
    return values[min(max(rank, 1), len(values)) - 1]


async def produce_p1(args, connection):
    queue = Queue(QUEUE, connection)
    jobs = [{"name": "job", "data": {"i": i}} for i in range(args.count)]

    async def body():
        await queue.addBulk(jobs)

    await phase("add", args.count, body)
    await queue.close()


async def produce_p2(args, connection):
    producer = FlowProducer(connection)
    flows = [{"name": "parent", "queueName": QUEUE, "data": {"i": index},
              "children": [{"name": "child", "queueName": QUEUE, "data": {"i": child}}
                           for child in range(args.children)]}
             for index in range(args.count)]

    async def body():
        await producer.addBulk(flows)

    await phase("add", args.count * (args.children + 1), body, flows=args.count)
    await producer.close()


async def produce_one_flow(args, connection):
    producer = FlowProducer(connection)
    flow = {"name": "parent", "queueName": QUEUE, "data": None,
            "children": [{"name": "child", "queueName": QUEUE, "data": {"i": child}}
                         for child in range(args.count)]}

    async def body():
        await producer.add(flow)

    await phase("add", args.count + 1, body)
    await producer.close()


async def process(args, connection, jobs, flows=None):
    """Runs a worker from go until `jobs` jobs are in the completed set."""
    poller = aioredis.from_url(args.redis)
    completed_key = f"bull:{QUEUE}:completed"
    holder = {}

    async def handler(job, token):
        return None

    async def body():
        holder["worker"] = Worker(QUEUE, handler, {**connection, "concurrency": args.concurrency})
        while await poller.zcard(completed_key) < jobs:
            await asyncio.sleep(0.005)

    await phase("process", jobs, body, flows=flows)
    await close_worker(holder["worker"])
    await poller.aclose()


async def idle_worker(args, connection):
    """Records, for each "ping" job, the time from the producer's add call to the handler's start."""
    latencies = []
    done = asyncio.Event()

    async def handler(job, token):
        started = microseconds_since_epoch()
        if job.name != "ping":
            return None
        latencies.append((started - job.data["t"]) / 1000)
        if len(latencies) == args.count:
            done.set()
        return None

    worker = Worker(QUEUE, handler, {**connection, "concurrency": args.concurrency})
    await asyncio.sleep(0.5)  # connected and blocked on the marker
    await say("READY")
    await done.wait()
    values = sorted(latencies)
    await say("RESULT " + json.dumps({"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
                                      "samples": len(values)}))
    await close_worker(worker)


async def single_adds(args, connection):
    """Adds `count` single jobs, gap apart, each carrying the wall-clock time of its add call."""
    queue = Queue(QUEUE, connection)
    gap = args.gap_ms / 1000
    for _ in range(20):
        await queue.add("warmup", {"t": microseconds_since_epoch()})
        await asyncio.sleep(gap)

    async def body():
        for _ in range(args.count):
            await queue.add("ping", {"t": microseconds_since_epoch()})
            await asyncio.sleep(gap)

    await phase("pickup", args.count, body)
    await queue.close()


async def dag(args, connection):
    """P6 without shared nodes: the first layer is added at once; each later node is added from the worker's
    completed event once its 3 inputs (the same index and the next two of the layer before) have completed, with
    their results in its data. The client holds the DAG's state; BullMQ only runs jobs."""
    width, layers = args.count, args.children
    total = width * layers
    needs = {}
    dependents = {}
    for layer in range(1, layers):
        for index in range(width):
            node = (layer, index)
            needs[node] = sorted({(layer - 1, (index + step) % width) for step in range(min(3, width))})
            for need in needs[node]:
                dependents.setdefault(need, []).append(node)
    remaining = {node: len(inputs) for node, inputs in needs.items()}
    results = {}
    queue = Queue(QUEUE, connection)
    poller = aioredis.from_url(args.redis)
    completed_key = f"bull:{QUEUE}:completed"
    adds = set()
    holder = {}

    def node_job(node):
        data = {"layer": node[0], "index": node[1]}
        if node in needs:
            data["inputs"] = {f"n{need[0]}-{need[1]}": results[need] for need in needs[node]}
        return {"name": "node", "data": data}

    async def handler(job, token):
        return None

    def on_completed(job, result):
        node = (job.data["layer"], job.data["index"])
        results[node] = result
        for dependent in dependents.get(node, []):
            remaining[dependent] -= 1
            if remaining[dependent] == 0:
                entry = node_job(dependent)
                task = asyncio.ensure_future(queue.add(entry["name"], entry["data"]))
                adds.add(task)
                task.add_done_callback(adds.discard)

    async def body():
        worker = Worker(QUEUE, handler, {**connection, "concurrency": args.concurrency})
        worker.on("completed", on_completed)
        holder["worker"] = worker
        await queue.addBulk([node_job((0, index)) for index in range(width)])
        while await poller.zcard(completed_key) < total:
            await asyncio.sleep(0.005)

    await phase("run", total, body)
    await close_worker(holder["worker"])
    await queue.close()
    await poller.aclose()


async def chain(args, connection):
    """P9: a chain of `count` nodes as a BullMQ tree `count` levels deep (each parent waits for its one child), added
    with FlowProducer.add to a worker already waiting at concurrency 1; from the add to the root completed."""
    sys.setrecursionlimit(max(10000, 20 * args.count))
    tree = {"name": "node", "queueName": QUEUE, "data": {"index": 0}}
    for index in range(1, args.count):
        tree = {"name": "node", "queueName": QUEUE, "data": {"index": index}, "children": [tree]}
    flows = FlowProducer(connection)
    poller = aioredis.from_url(args.redis)
    completed_key = f"bull:{QUEUE}:completed"

    async def handler(job, token):
        return None

    worker = Worker(QUEUE, handler, {**connection, "concurrency": 1})
    timing = {}

    async def body():
        start = time.perf_counter()
        await flows.add(tree)
        while await poller.zcard(completed_key) < args.count:
            await asyncio.sleep(0.001)
        timing["elapsed"] = time.perf_counter() - start

    async def extras():
        return {"hop_ms": timing["elapsed"] * 1000 / args.count}

    await phase("run", args.count, body, extras=extras)
    await close_worker(worker)
    await flows.close()
    await poller.aclose()


SLOWLOG_THRESHOLD_US = 1000
SCRIPT_COMMANDS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}


async def slowlog_start(client):
    """Logs every command taking 1 ms or more, with room for all of them, from an empty log (as SlowLog.swift)."""
    await client.config_set("slowlog-log-slower-than", SLOWLOG_THRESHOLD_US)
    await client.config_set("slowlog-max-len", 1000000)
    await client.slowlog_reset()


async def slowlog_longest(client):
    """The longest single script call and command of any kind (ms), and how many commands took 1 ms or more."""
    entries = await client.execute_command("SLOWLOG", "GET", -1)
    script = command = 0
    for entry in entries:
        duration = int(entry["duration"]) if isinstance(entry, dict) else int(entry[2])
        words = entry["command"] if isinstance(entry, dict) else entry[3]
        if isinstance(words, (bytes, str)):
            words = (words.decode() if isinstance(words, bytes) else words).split(" ")
        name = words[0].decode() if words and isinstance(words[0], bytes) else (words[0] if words else "")
        command = max(command, duration)
        if name.lower() in SCRIPT_COMMANDS:
            script = max(script, duration)
    return {"slowest_script_ms": script / 1000, "slowest_command_ms": command / 1000, "slow_commands": len(entries)}


async def map_step(args, connection):
    """P7 with BullMQ's step pattern: one parent job adds its `count` children with addBulk, moves to
    waiting-children until they have all completed, then runs again and gathers their results in order (the
    merge). Worker concurrency `--children` (100), as Tributary's worker and map limit. Trivial handlers: a
    child returns its index, the parent the number of results."""
    count = args.count
    queue = Queue(QUEUE, connection)
    poller = aioredis.from_url(args.redis)
    completed_key = f"bull:{QUEUE}:completed"
    holder = {}
    expanded = set()

    async def handler(job, token):
        if job.name == "item":
            return job.data["i"]
        if job.id not in expanded:
            expanded.add(job.id)
            parent = {"id": job.id, "queue": job.queueQualifiedName}
            await queue.addBulk([{"name": "item", "data": {"i": i}, "opts": {"parent": parent}} for i in range(count)])
            if await job.moveToWaitingChildren(token, {}):
                raise WaitingChildrenError()
        values = await job.getChildrenValues()
        ordered = [values[key] for key in sorted(values, key=lambda key: int(key.rsplit(":", 1)[1]))]
        return len(ordered)

    async def body():
        worker = Worker(QUEUE, handler, {**connection, "concurrency": args.children})
        holder["worker"] = worker
        parent = await queue.add("map", {"count": count})
        holder["parent"] = parent.id
        while await poller.zscore(completed_key, parent.id) is None:
            await asyncio.sleep(0.005)

    await slowlog_start(poller)
    await phase("run", count, body, extras=lambda: slowlog_longest(poller))
    await close_worker(holder["worker"])
    await queue.close()
    await poller.aclose()


async def scheduler(args, connection):
    """P8: a job scheduler every 1 s, first slot on a whole second at least 1 s ahead, and one worker; for `count`
    seconds records each iteration's start lateness (handler start - slot)."""
    starts = []

    async def handler(job, token):
        started = microseconds_since_epoch() / 1000
        slot = str(job.id).split(":")[-1]
        if slot.isdigit():
            starts.append((int(slot), started - int(slot)))
        return None

    queue = Queue(QUEUE, connection)
    worker = Worker(QUEUE, handler, {**connection, "concurrency": args.concurrency})
    first = (microseconds_since_epoch() // 1000 // 1000 + 2) * 1000
    end = first + args.count * 1000
    measured = {}

    async def body():
        await queue.upsertJobScheduler("tick", {"every": 1000, "startDate": first}, "tick")
        while microseconds_since_epoch() / 1000 < end + 1000:
            await asyncio.sleep(0.1)
        window = [late for slot, late in starts if first <= slot < end]
        values = sorted(window)
        measured.update({"fires": len(window), "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
                         "max_ms": values[-1] if values else 0})

    async def extras():
        return measured

    await phase("fire", args.count, body, extras=extras)
    await queue.close()
    await close_worker(worker)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--role", required=True, choices=["producer", "worker"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--children", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--gap-ms", type=int, default=10)
    args = parser.parse_args()
    connection = {"connection": args.redis}
    role = (args.scenario, args.role)
    if role == ("P1", "producer"):
        await produce_p1(args, connection)
    elif role == ("P2", "producer"):
        await produce_p2(args, connection)
    elif role in (("P3", "producer"), ("P4", "producer")):
        await produce_one_flow(args, connection)
    elif role == ("P1", "worker"):
        await process(args, connection, args.count)
    elif role == ("P2", "worker"):
        await process(args, connection, args.count * (args.children + 1), flows=args.count)
    elif role == ("P4", "worker"):
        await process(args, connection, args.count + 1)
    elif role == ("P5", "worker"):
        await idle_worker(args, connection)
    elif role == ("P5", "producer"):
        await single_adds(args, connection)
    elif role == ("P6", "worker"):
        await dag(args, connection)
    elif role == ("P7", "worker"):
        await map_step(args, connection)
    elif role == ("P8", "worker"):
        await scheduler(args, connection)
    elif role == ("P9", "worker"):
        await chain(args, connection)
    else:
        raise SystemExit(f"no {args.role} role in scenario {args.scenario}")
    sys.stdout.flush()
    # Leave at once: bullmq's background tasks can hold up the event loop's shutdown indefinitely.
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
