#!/usr/bin/env python3
"""Tributary's Python interop peer: drives the `bullmq` 3.4.4 package for the Swift test suite.

Usage: peer.py SUBCOMMAND --redis URL --queue NAME [--prefix bull] [options]

Every subcommand prints exactly one JSON document on stdout, logs to stderr and exits with
status 0 on success, 1 on an error, 2 on bad arguments (argparse) and 3 on a timeout.
Arguments that take JSON (`--jobs`, `--tree`) also accept `@PATH` to read the JSON from a file.

Subcommands:
  add        --jobs JSON          Queue.add for each {"name", "data", "opts"}; prints [{"id"}, ...]
  add-bulk   --jobs JSON          the same through Queue.addBulk
  work       --count N [--concurrency C] [--timeout S] [--fail-names a,b] [--fail-times K] [--map-items]
             [--hold-names a,b --release-key K] [--probe SECONDS] [--queue-total N] [--metrics-points P]
                                  runs a Worker until N final outcomes; prints {"completed", "failed"}
                                  (--map-items: jobs are items of a Tributary map node; the processor reads
                                  `mapIndex` and `mapItem` from the job hash and returns {"by", "index", "item"};
                                  --hold-names: those jobs wait until key K exists before finishing;
                                  --probe: the processor records in Redis how many handlers run at once
                                  (probe:now, peak in probe:peak) and when each started (probe:starts, Redis time
                                  in ms), then sleeps SECONDS; --queue-total: stop instead when the queue has N
                                  completed or failed jobs, whichever worker ran them; --metrics-points: the
                                  worker option metrics={"maxDataPoints": P})
  metrics    --type completed|failed [--start I] [--end J]
                                  BullMQ's getMetrics: runs the package's own commands/getMetrics-2.lua (3.4.4
                                  bundles it but its Queue has no getMetrics method) and shapes the reply as
                                  Node's Queue.getMetrics does: {"meta": {"count", "prevTS", "prevCount"},
                                  "data", "count"}
  counts                          Queue.getJobCounts for every state
  job        --id ID              Job.fromId: the job's public fields and state, or null
  wait-finished --ids a,b --timeout S
                                  polls until every job is completed or failed
  flow       --tree JSON          FlowProducer.add; prints {"id", "name", "queue", "children"}
  scheduler-upsert --id ID --repeat JSON [--name N] [--data JSON] [--opts JSON]
                                  Queue.upsertJobScheduler; prints {"jobId"} (null when none was queued)
  schedulers                      Queue.getJobSchedulers and getJobSchedulersCount; prints {"schedulers", "count"}
  scheduler-remove --id ID        Queue.removeJobScheduler; prints {"result"} (0 removed, 1 absent)
"""

import argparse
import asyncio
import json
import sys
import time

import bullmq
from bullmq import FlowProducer, Job, Queue, UnrecoverableError, Worker

EXIT_ERROR = 1
EXIT_TIMEOUT = 3

# Counts a handler in (probe:now, its peak in probe:peak) and records its start (Redis time, ms) in probe:starts.
PROBE_ENTER = ("local n = redis.call('INCR', KEYS[1]) "
               "if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end "
               "local t = redis.call('TIME') "
               "redis.call('RPUSH', KEYS[3], t[1] * 1000 + math.floor(t[2] / 1000)) return n")

# Every state Queue.getJobCounts understands in 3.4.4 ('paused' is the legacy v5 list).
COUNT_STATES = ["waiting", "active", "completed", "failed", "delayed", "prioritized",
                "waiting-children", "paused"]


class PeerError(Exception):
    """A failure reported to the caller as a message on stderr and a nonzero exit status."""

    def __init__(self, message, status=EXIT_ERROR):
        super().__init__(message)
        self.status = status


def log(message):
    """Writes one diagnostic line to stderr (stdout is reserved for the JSON result)."""
    print(f"peer: {message}", file=sys.stderr, flush=True)


def load_json_argument(text, option):
    """Parses a JSON command-line value; `@PATH` reads the JSON from that file."""
    try:
        if text.startswith("@"):
            with open(text[1:], "r", encoding="utf-8") as handle:
                text = handle.read()
        return json.loads(text)
    except (OSError, ValueError) as error:
        raise PeerError(f"{option}: invalid JSON ({error})") from error


def connection_options(args):
    """The options shared by Queue, Worker and FlowProducer: the connection and key prefix. A URL naming several
    nodes (`redis://h1:p1,h2:p2`) is a Redis Cluster, reached through redis-py's RedisCluster."""
    location = args.redis.split("://", 1)[-1]
    if "," not in location:
        return {"connection": args.redis, "prefix": args.prefix}
    from redis.asyncio.cluster import RedisCluster, ClusterNode
    nodes = []
    for address in location.split(","):
        host, _, port = address.rpartition(":")
        nodes.append(ClusterNode(host, int(port)))
    return {"connection": RedisCluster(startup_nodes=nodes, decode_responses=True), "prefix": args.prefix}


def job_id_text(job_id):
    """Job ids as strings (the add scripts return strings; be tolerant of integers)."""
    return None if job_id is None else str(job_id)


def parse_job_list(args):
    """Validates `--jobs`: a JSON array of objects with a string name, any data and optional opts."""
    jobs = load_json_argument(args.jobs, "--jobs")
    if not isinstance(jobs, list):
        raise PeerError("--jobs must be a JSON array")
    for index, job in enumerate(jobs):
        if not isinstance(job, dict) or not isinstance(job.get("name"), str):
            raise PeerError(f"--jobs[{index}] must be an object with a string \"name\"")
        if not isinstance(job.get("opts") or {}, dict):
            raise PeerError(f"--jobs[{index}].opts must be an object")
    return jobs


async def command_add(args):
    """Adds the jobs one by one with Queue.add, in order."""
    jobs = parse_job_list(args)
    queue = Queue(args.queue, connection_options(args))
    try:
        added = []
        for job in jobs:
            result = await queue.add(job["name"], job.get("data"), job.get("opts") or {})
            added.append({"id": job_id_text(result.id)})
        return added
    finally:
        await queue.close()


async def command_add_bulk(args):
    """Adds all the jobs in one MULTI with Queue.addBulk."""
    jobs = parse_job_list(args)
    queue = Queue(args.queue, connection_options(args))
    try:
        entries = [{"name": job["name"], "data": job.get("data"), "opts": job.get("opts") or {}}
                   for job in jobs]
        added = await queue.addBulk(entries)
        return [{"id": job_id_text(job.id)} for job in added]
    finally:
        await queue.close()


def is_final_failure(job, error):
    """Whether a 'failed' worker event is the job's last attempt (no retry will follow)."""
    if isinstance(error, UnrecoverableError) or getattr(job, "discarded", False):
        return True
    attempts = job.opts.get("attempts") or 1
    return job.attemptsMade >= attempts


async def command_work(args):
    """Runs a Worker until `--count` jobs reached a final outcome, then closes it cleanly."""
    if args.count < 1:
        raise PeerError("--count must be at least 1")
    fail_names = {name for name in (args.fail_names or "").split(",") if name}
    completed, failed = [], []
    finished = asyncio.Event()
    state = {"timedOut": False}

    hold_names = {name for name in (args.hold_names or "").split(",") if name}
    items_client = None
    if args.map_items or hold_names or args.probe is not None or args.queue_total is not None:
        from redis import asyncio as redis_asyncio
        items_client = redis_asyncio.from_url(args.redis, decode_responses=True)

    async def process(job, token):
        if job.name in hold_names:
            while not await items_client.exists(args.release_key):
                await asyncio.sleep(0.02)
        if args.probe is not None:
            await items_client.eval(PROBE_ENTER, 3, "probe:now", "probe:peak", "probe:starts")
            await asyncio.sleep(args.probe)
            await items_client.decr("probe:now")
        if job.name in fail_names and (args.fail_times is None or job.attemptsMade < args.fail_times):
            raise Exception(f"python failure {job.name}")
        if args.map_items:
            # bullmq's Job does not expose Tributary's map fields: read them from the job hash.
            index, item = await items_client.hmget(f"{args.prefix}:{args.queue}:{job.id}", "mapIndex", "mapItem")
            if index is None:
                raise Exception(f"job {job.id} is not a map item (no mapIndex field)")
            return {"by": "python", "index": int(index), "item": json.loads(item)}
        return {"by": "python", "name": job.name, "data": job.data, "attempt": job.attemptsMade}

    def on_completed(job, result):
        completed.append({"id": job_id_text(job.id), "name": job.name, "returnvalue": result})
        if args.queue_total is None and len(completed) + len(failed) >= args.count:
            finished.set()

    def on_failed(job, error):
        if not is_final_failure(job, error):
            log(f"job {job.id} ({job.name}) failed attempt {job.attemptsMade}: {error}; will retry")
            return
        failed.append({"id": job_id_text(job.id), "name": job.name, "failedReason": str(error),
                       "attemptsMade": job.attemptsMade})
        if args.queue_total is None and len(completed) + len(failed) >= args.count:
            finished.set()

    async def watch_queue_total():
        # Several workers (processes) share the queue: stop when all of them together finished the total.
        keys = [f"{args.prefix}:{args.queue}:completed", f"{args.prefix}:{args.queue}:failed"]
        while not finished.is_set():
            if sum([await items_client.zcard(key) for key in keys]) >= args.queue_total:
                finished.set()
                return
            await asyncio.sleep(0.05)

    def on_timeout():
        state["timedOut"] = True
        finished.set()

    options = connection_options(args)
    options["concurrency"] = args.concurrency
    if args.metrics_points is not None:
        options["metrics"] = {"maxDataPoints": args.metrics_points}
    worker = Worker(args.queue, process, options)
    worker.on("completed", on_completed)
    worker.on("failed", on_failed)
    worker.on("error", lambda error, *rest: log(f"worker error: {error!r}"))
    timer = asyncio.get_running_loop().call_later(args.timeout, on_timeout)
    watcher = asyncio.ensure_future(watch_queue_total()) if args.queue_total is not None else None
    # Awaited directly (no wait_for wrapper) so close() starts before the worker loop fetches again.
    await finished.wait()
    timer.cancel()
    if watcher is not None:
        watcher.cancel()
    await worker.close(force=state["timedOut"])
    if items_client is not None:
        await items_client.aclose()
    if state["timedOut"]:
        raise PeerError(f"work timed out after {args.timeout}s with {len(completed)} completed and "
                        f"{len(failed)} failed of {args.count}: "
                        + json.dumps({"completed": completed, "failed": failed}), EXIT_TIMEOUT)
    return {"completed": completed, "failed": failed}


async def command_metrics(args):
    """BullMQ's getMetrics read of <prefix>:<queue>:metrics:<type>, through the package's bundled script."""
    from bullmq.redis_connection import loadScript
    from redis import asyncio as redis_asyncio
    client = redis_asyncio.from_url(args.redis, decode_responses=True)
    try:
        script = client.register_script(loadScript("getMetrics-2.lua"))
        key = f"{args.prefix}:{args.queue}:metrics:{args.type}"
        meta, data, count = await script(keys=[key, key + ":data"], args=[args.start, args.end])
        return {
            "meta": {"count": int(meta[0] or 0), "prevTS": int(meta[1] or 0), "prevCount": int(meta[2] or 0)},
            "data": [int(point or 0) for point in data],
            "count": int(count),
        }
    finally:
        await client.aclose()


async def command_counts(args):
    """Queue.getJobCounts for every state listed in COUNT_STATES."""
    queue = Queue(args.queue, connection_options(args))
    try:
        counts = await queue.getJobCounts(*COUNT_STATES)
        return {state: counts.get(state, 0) for state in COUNT_STATES}
    finally:
        await queue.close()


async def command_limits(args):
    """Sets (when given) then reads the queue's global limits, and reads a deduplication id's owner."""
    queue = Queue(args.queue, connection_options(args))
    try:
        if args.clear:
            await queue.removeGlobalConcurrency()
            await queue.removeGlobalRateLimit()
        if args.concurrency is not None:
            await queue.setGlobalConcurrency(args.concurrency)
        if args.rate_max is not None:
            await queue.setGlobalRateLimit(args.rate_max, args.rate_duration)
        result = {
            "concurrency": await queue.getGlobalConcurrency(),
            "rateLimit": await queue.getGlobalRateLimit(),
        }
        if args.dedupe_id is not None:
            owner = await queue.getDeduplicationJobId(args.dedupe_id)
            result["deduplicationJobId"] = owner.decode() if isinstance(owner, bytes) else owner
        return result
    finally:
        await queue.close()


def describe_job(job, state):
    """The public fields of a Job as JSON (opts without the None values Python's Job adds)."""
    return {
        "id": job_id_text(job.id),
        "name": job.name,
        "data": job.data,
        "opts": {key: value for key, value in job.opts.items() if value is not None},
        "returnvalue": job.returnvalue,
        "failedReason": job.failedReason,
        "stacktrace": job.stacktrace,
        "attemptsMade": job.attemptsMade,
        "attemptsStarted": job.attemptsStarted,
        "stalledCounter": job.stalledCounter,
        "timestamp": job.timestamp,
        "processedOn": job.processedOn,
        "finishedOn": job.finishedOn,
        "delay": job.delay,
        "priority": job.priority,
        "progress": job.progress,
        "parentKey": job.parentKey,
        "parent": job.parent,
        "deferredFailure": job.deferredFailure,
        "repeatJobKey": job.repeatJobKey,
        "state": state,
    }


async def command_job(args):
    """Job.fromId; null when the job hash does not exist."""
    queue = Queue(args.queue, connection_options(args))
    try:
        job = await Job.fromId(queue, args.id)
        if job is None:
            return None
        return describe_job(job, await job.getState())
    finally:
        await queue.close()


async def command_wait_finished(args):
    """Polls getState until every job in `--ids` is completed or failed."""
    ids = [job_id for job_id in args.ids.split(",") if job_id]
    if not ids:
        raise PeerError("--ids must name at least one job")
    queue = Queue(args.queue, connection_options(args))
    try:
        deadline = time.monotonic() + args.timeout
        results = {}
        while True:
            for job_id in ids:
                if job_id in results:
                    continue
                state = await queue.getJobState(job_id)
                if state in ("completed", "failed"):
                    job = await Job.fromId(queue, job_id)
                    results[job_id] = {"state": state,
                                       "returnvalue": job.returnvalue if job else None,
                                       "failedReason": job.failedReason if job else None}
            if len(results) == len(ids):
                return {job_id: results[job_id] for job_id in ids}
            if time.monotonic() >= deadline:
                pending = [job_id for job_id in ids if job_id not in results]
                raise PeerError(f"wait-finished timed out after {args.timeout}s; still pending: "
                                + ",".join(pending), EXIT_TIMEOUT)
            await asyncio.sleep(0.05)
    finally:
        await queue.close()


def fill_queue_names(node, default_queue, path="tree"):
    """Validates a flow node and gives nodes without `queueName` the `--queue` name."""
    if not isinstance(node, dict) or not isinstance(node.get("name"), str):
        raise PeerError(f"{path} must be an object with a string \"name\"")
    node.setdefault("queueName", default_queue)
    children = node.get("children") or []
    if not isinstance(children, list):
        raise PeerError(f"{path}.children must be an array")
    for index, child in enumerate(children):
        fill_queue_names(child, default_queue, f"{path}.children[{index}]")


def describe_flow(node):
    """The ids tree returned by FlowProducer.add, as {"id", "name", "queue", "children"}."""
    job = node["job"]
    return {"id": job_id_text(job.id), "name": job.name, "queue": job.queue.name,
            "children": [describe_flow(child) for child in node.get("children") or []]}


async def command_flow(args):
    """FlowProducer.add with a nested {name, queueName, data, opts, children} tree."""
    tree = load_json_argument(args.tree, "--tree")
    fill_queue_names(tree, args.queue)
    producer = FlowProducer(opts=connection_options(args))
    try:
        return describe_flow(await producer.add(tree))
    finally:
        await producer.close()


async def command_scheduler_upsert(args):
    """Queue.upsertJobScheduler(id, repeat, name, data, opts)."""
    repeat = load_json_argument(args.repeat, "--repeat")
    data = load_json_argument(args.data, "--data") if args.data else None
    opts = load_json_argument(args.opts, "--opts") if args.opts else None
    queue = Queue(args.queue, connection_options(args))
    try:
        job = await queue.upsertJobScheduler(args.id, repeat, args.name, data, opts)
        return {"jobId": None if job is None else job_id_text(job.id)}
    finally:
        await queue.close()


async def command_schedulers(args):
    """Queue.getJobSchedulers() (latest next first, as Python's default) and getJobSchedulersCount()."""
    queue = Queue(args.queue, connection_options(args))
    try:
        return {"schedulers": await queue.getJobSchedulers(), "count": await queue.getJobSchedulersCount()}
    finally:
        await queue.close()


async def command_scheduler_remove(args):
    """Queue.removeJobScheduler(id)."""
    queue = Queue(args.queue, connection_options(args))
    try:
        return {"result": await queue.removeJobScheduler(args.id)}
    finally:
        await queue.close()


def parser():
    """The command-line grammar (one sub-parser per subcommand, common options on each)."""
    root = argparse.ArgumentParser(prog="peer.py", description=f"bullmq {bullmq.__version__} test peer")
    subcommands = root.add_subparsers(dest="command", required=True)

    def subcommand(name, handler):
        sub = subcommands.add_parser(name)
        sub.add_argument("--redis", required=True, help="redis:// or unix:// URL")
        sub.add_argument("--queue", required=True)
        sub.add_argument("--prefix", default="bull")
        sub.set_defaults(handler=handler)
        return sub

    subcommand("add", command_add).add_argument("--jobs", required=True)
    subcommand("add-bulk", command_add_bulk).add_argument("--jobs", required=True)
    work = subcommand("work", command_work)
    work.add_argument("--count", type=int, required=True)
    work.add_argument("--concurrency", type=int, default=1)
    work.add_argument("--timeout", type=float, default=30)
    work.add_argument("--fail-names", default="")
    work.add_argument("--fail-times", type=int, default=None)
    work.add_argument("--map-items", action="store_true")
    work.add_argument("--hold-names", default="")
    work.add_argument("--release-key", default="peer:release")
    work.add_argument("--probe", type=float, default=None, help="seconds each handler works")
    work.add_argument("--queue-total", type=int, default=None)
    work.add_argument("--metrics-points", type=int, default=None)
    metrics = subcommand("metrics", command_metrics)
    metrics.add_argument("--type", choices=["completed", "failed"], required=True)
    metrics.add_argument("--start", type=int, default=0)
    metrics.add_argument("--end", type=int, default=-1)
    subcommand("counts", command_counts)
    subcommand("job", command_job).add_argument("--id", required=True)
    wait = subcommand("wait-finished", command_wait_finished)
    wait.add_argument("--ids", required=True)
    wait.add_argument("--timeout", type=float, default=30)
    subcommand("flow", command_flow).add_argument("--tree", required=True)
    upsert = subcommand("scheduler-upsert", command_scheduler_upsert)
    upsert.add_argument("--id", required=True)
    upsert.add_argument("--repeat", required=True)
    upsert.add_argument("--name", default=None)
    upsert.add_argument("--data", default=None)
    upsert.add_argument("--opts", default=None)
    subcommand("schedulers", command_schedulers)
    subcommand("scheduler-remove", command_scheduler_remove).add_argument("--id", required=True)
    limits = subcommand("limits", command_limits)
    limits.add_argument("--concurrency", type=int, default=None)
    limits.add_argument("--rate-max", type=int, default=None)
    limits.add_argument("--rate-duration", type=int, default=None, help="ms")
    limits.add_argument("--clear", action="store_true")
    limits.add_argument("--dedupe-id", default=None)
    return root


def main():
    """Runs one subcommand and maps its outcome onto stdout/stderr and the exit status."""
    args = parser().parse_args()
    try:
        result = asyncio.run(args.handler(args))
    except PeerError as error:
        log(f"{args.command}: {error}")
        return error.status
    except Exception as error:  # anything bullmq or redis-py raised
        log(f"{args.command}: {type(error).__name__}: {error}")
        return EXIT_ERROR
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
