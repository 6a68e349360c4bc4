import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import NIOCore
import Tributary

/// The Tributary side of one queue-benchmark scenario, run as a child process of `TributaryBenchmarks queue`
/// (see ``ClientProcess`` for the line protocol). `benchmarks/python/bench_client.py` is its Python twin: both do
/// the same thing in the same order.
///
/// Usage: `TributaryBenchmarks client --redis URL --scenario P1 --role producer|worker --count N --children C
/// --concurrency C --gap-ms G`.
enum TributaryClient {
    static let queueName = "bench"

    struct Options {
        var redis = ""
        var scenario = ""
        var role = ""
        var count = 0
        var children = 0
        var concurrency = 50
        var gapMilliseconds = 10
        var nioExecutor = false
        /// The queue of scenario SCALE (``ScalingBenchmark``); the other scenarios use ``queueName``.
        var queue = queueName

        init(_ arguments: [String]) throws {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                guard let value = iterator.next() else { throw BenchmarkError("\(flag) needs a value") }
                switch flag {
                case "--redis": redis = value
                case "--scenario": scenario = value
                case "--role": role = value
                case "--count": count = Int(value) ?? 0
                case "--children": children = Int(value) ?? 0
                case "--concurrency": concurrency = Int(value) ?? 50
                case "--gap-ms": gapMilliseconds = Int(value) ?? 10
                case "--nio-executor": nioExecutor = value == "1"
                case "--queue": queue = value
                default: throw BenchmarkError("unknown option \(flag)")
                }
            }
            guard !redis.isEmpty, count > 0 else { throw BenchmarkError("--redis and a positive --count are required") }
        }
    }

    static func run(_ arguments: [String]) async throws {
        let options = try Options(arguments)
        if options.nioExecutor {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let client = try await RedisClient.connect(url: options.redis, disconnectedBehavior: .waitForReconnect)
        switch (options.scenario, options.role) {
        case ("P1", "producer"):
            let queue = try Queue(queueName, client: client)
            let requests = (0..<options.count).map { JobRequest("job", data: ["i": .int(Int64($0))]) }
            try await phase("add", jobs: options.count) { _ = try await queue.addBulk(requests) }
        case ("P2", "producer"):
            let flows = FlowProducer(client: client)
            let trees = (0..<options.count).map { index in
                FlowJob("parent", queue: queueName, data: ["i": .int(Int64(index))], children: (0..<options.children).map {
                    FlowJob("child", queue: queueName, data: ["i": .int(Int64($0))])
                })
            }
            try await phase("add", jobs: options.count * (options.children + 1), flows: options.count) {
                _ = try await flows.addBulk(trees)
            }
        case ("P3", "producer"), ("P4", "producer"):
            let flows = FlowProducer(client: client)
            let tree = FlowJob("parent", queue: queueName, children: (0..<options.count).map {
                FlowJob("child", queue: queueName, data: ["i": .int(Int64($0))])
            })
            try await phase("add", jobs: options.count + 1) { _ = try await flows.add(tree) }
        case ("P1", "worker"):
            try await process(client, options, jobs: options.count)
        case ("P2", "worker"):
            try await process(client, options, jobs: options.count * (options.children + 1), flows: options.count)
        case ("P4", "worker"):
            try await process(client, options, jobs: options.count + 1)
        case ("P5", "worker"):
            try await idleWorker(client, options)
        case ("P5", "producer"):
            try await singleAdds(client, options)
        case ("P6", "worker"):
            try await dag(client, options)
        case ("P7", "worker"):
            try await map(client, options)
        case ("P8", "worker"):
            try await scheduler(client, options)
        case ("P9", "worker"):
            try await chain(client, options)
        case ("SCALE", "worker"):
            try await process(client, options, queue: options.queue, jobs: options.count, poll: .milliseconds(20))
        default:
            throw BenchmarkError("no \(options.role) role in scenario \(options.scenario)")
        }
        await client.close()
    }

    /// Runs a worker from `go` until `jobs` jobs are in the queue's completed set (read every `poll`).
    private static func process(_ client: RedisClient, _ options: Options, queue: String = queueName, jobs: Int,
                                flows: Int? = nil, poll: Duration = .milliseconds(5)) async throws {
        let worker = try Worker(queue: queue, client: client, options: .init(concurrency: options.concurrency)) { _ in .null }
        let completed = QueueKeys(queueName: queue).key(.completed)
        try await phase("process", jobs: jobs, flows: flows) {
            Task { try await worker.run() }
            while try await client.send(RedisCommand("ZCARD", .string(completed))).int ?? 0 < jobs {
                try await Task.sleep(for: poll)
            }
        }
        await worker.close()
    }

    /// The P6 DAG in the native flow format: `layers` layers of `width` nodes; each node after the first layer
    /// needs 3 nodes of the layer before (its own index and the next two, wrapping around).
    static func dagDefinition(width: Int, layers: Int) -> JSONValue {
        var nodes = JSONObject()
        for layer in 0..<layers {
            for index in 0..<width {
                var node: JSONObject = ["name": "node", "data": ["layer": .int(Int64(layer)), "index": .int(Int64(index))]]
                if layer > 0 {
                    let needs = Set((0..<min(3, width)).map { (index + $0) % width }).sorted()
                    node["needs"] = .array(needs.map { .string("n\(layer - 1)-\($0)") })
                }
                nodes["n\(layer)-\(index)"] = .object(node)
            }
        }
        return ["flow": "bench-dag", "queue": .string(queueName), "nodes": .object(nodes)]
    }

    /// P6: submits the DAG as one flow run and runs a worker until every node has completed.
    private static func dag(_ client: RedisClient, _ options: Options) async throws {
        let total = options.count * options.children
        let plan = try FlowCompiler.compile(dagDefinition(width: options.count, layers: options.children), source: "P6")
        let flows = FlowProducer(client: client)
        let worker = try Worker(queue: queueName, client: client, options: .init(concurrency: options.concurrency)) { _ in .null }
        let completed = QueueKeys(queueName: queueName).key(.completed)
        var submitSeconds = 0.0
        try await phase("run", jobs: total, extras: { ["submit_s": submitSeconds] }) {
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await flows.submit(plan)
            submitSeconds = ScenarioRunner.seconds(clock.now - start)
            Task { try await worker.run() }
            while try await client.send(RedisCommand("ZCARD", .string(completed))).int ?? 0 < total {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        await worker.close()
    }

    /// P9: a chain of `count` nodes, each needing the one before, submitted as one flow run to a worker already
    /// waiting at concurrency 1 with a trivial handler; from submit to the last node completed, and per hop.
    private static func chain(_ client: RedisClient, _ options: Options) async throws {
        var nodes = JSONObject()
        for index in 0..<options.count {
            var node: JSONObject = ["name": "node"]
            if index > 0 { node["needs"] = [.string("n\(index - 1)")] }
            nodes["n\(index)"] = .object(node)
        }
        let definition: JSONValue = ["flow": "bench-chain", "queue": .string(queueName), "nodes": .object(nodes)]
        let plan = try FlowCompiler.compile(definition, source: "P9")
        let flows = FlowProducer(client: client)
        let worker = try Worker(queue: queueName, client: client, options: .init(concurrency: 1)) { _ in .null }
        let running = Task { try await worker.run() }
        let completed = QueueKeys(queueName: queueName).key(.completed)
        var elapsed = 0.0
        try await phase("run", jobs: options.count, extras: { ["hop_ms": elapsed * 1000 / Double(options.count)] }) {
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await flows.submit(plan)
            while try await client.send(RedisCommand("ZCARD", .string(completed))).int ?? 0 < options.count {
                try await Task.sleep(for: .milliseconds(1))
            }
            elapsed = ScenarioRunner.seconds(clock.now - start)
        }
        await worker.close()
        try await running.value
    }

    /// P7: one flow run `list → items (a map over list's result, maxConcurrency = --children) → merge`, with
    /// `--count` items; a worker at concurrency `--children` runs it until the merge has completed. Every handler
    /// is trivial: list returns [0, 1, …], an item returns its item, merge the number of results. Also reports
    /// the longest single Lua script (and command) Redis ran in the phase, from SLOWLOG.
    private static func map(_ client: RedisClient, _ options: Options) async throws {
        let definition: JSONValue = ["flow": "bench-map", "queue": .string(queueName), "nodes": [
            "list": [:],
            "items": ["needs": "list", "map": ["items": "list", "maxConcurrency": .int(Int64(options.children))]],
            "merge": ["needs": "items"],
        ]]
        let plan = try FlowCompiler.compile(definition, source: "P7")
        let flows = FlowProducer(client: client)
        let count = options.count
        let worker = try Worker(queue: queueName, client: client, options: .init(concurrency: options.children)) { job in
            if let item = job.mapItem { return item }
            if job.flowNodeId == "list" { return .array((0..<count).map { .int(Int64($0)) }) }
            return .int(Int64(job.inputs["items"]?.arrayValue?.count ?? 0))
        }
        let completed = QueueKeys(queueName: queueName).key(.completed)
        try await SlowLog.start(client)
        try await phase("run", jobs: count, extras: { try await SlowLog.longest(client) }) {
            let receipt = try await flows.submit(plan, runId: "p7")
            let merge = receipt.jobIds["merge"] ?? "p7.merge"
            Task { try await worker.run() }
            while try await client.send(RedisCommand("ZSCORE", .string(completed), .string(merge))).isNull {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        await worker.close()
    }

    /// P8: a job scheduler every 1 s, first slot on a whole second at least 1 s ahead, and one worker; for `count`
    /// seconds records each iteration's start lateness (handler start - slot). Reports the iterations whose slot fell
    /// in the window and the lateness percentiles.
    private static func scheduler(_ client: RedisClient, _ options: Options) async throws {
        let starts = NIOLockedValueBox<[(slot: Int64, late: Double)]>([])
        let worker = try Worker(queue: queueName, client: client, options: .init(concurrency: options.concurrency)) { job in
            let started = Double(microsecondsSinceEpoch()) / 1000
            if let slot = job.id.split(separator: ":").last.flatMap({ Int64($0) }) {
                starts.withLockedValue { $0.append((slot, started - Double(slot))) }
            }
            return .null
        }
        let queue = try Queue(queueName, client: client)
        let running = Task { try await worker.run() }
        let first = (microsecondsSinceEpoch() / 1000 / 1000 + 2) * 1000
        let end = first + Int64(options.count) * 1000
        var fires = 0.0, p50 = 0.0, p99 = 0.0, worst = 0.0
        try await phase("fire", jobs: options.count, extras: { ["fires": fires, "p50_ms": p50, "p99_ms": p99, "max_ms": worst] }) {
            try await queue.upsertJobScheduler("tick", repeat: RepeatOptions(every: .seconds(1), startDate: first))
            while microsecondsSinceEpoch() / 1000 < end + 1000 { try await Task.sleep(for: .milliseconds(100)) }
            let window = starts.withLockedValue { $0 }.filter { $0.slot >= first && $0.slot < end }
            let late = window.map(\.late).sorted()
            fires = Double(window.count)
            (p50, p99, worst) = (percentile(late, 0.5), percentile(late, 0.99), late.last ?? 0)
        }
        await worker.close()
        _ = await running.result
    }

    /// A worker that records, for each `ping` job, the time from the producer's add call to the handler's start.
    private static func idleWorker(_ client: RedisClient, _ options: Options) async throws {
        let latencies = NIOLockedValueBox<[Double]>([])
        let done = AsyncStream<Void>.makeStream()
        let worker = try Worker(queue: queueName, client: client, options: .init(concurrency: options.concurrency)) { job in
            let started = microsecondsSinceEpoch()
            guard job.name == "ping", let sent = job.data["t"]?.intValue else { return .null }
            let count = latencies.withLockedValue { list -> Int in
                list.append(Double(started - sent) / 1000)
                return list.count
            }
            if count == options.count { done.continuation.yield() }
            return .null
        }
        let running = Task { try await worker.run() }
        try await Task.sleep(for: .milliseconds(500))  // connected and blocked on the marker
        try await say("READY")
        for await _ in done.stream { break }
        let sorted = latencies.withLockedValue { $0 }.sorted()
        try await say("RESULT {\"p50_ms\":\(percentile(sorted, 0.5)),\"p99_ms\":\(percentile(sorted, 0.99)),\"samples\":\(sorted.count)}")
        await worker.close()
        _ = await running.result
    }

    /// Adds `count` single jobs, `gap` apart, each carrying the wall-clock time of its add call; a few warm-up jobs
    /// (not measured) first.
    private static func singleAdds(_ client: RedisClient, _ options: Options) async throws {
        let queue = try Queue(queueName, client: client)
        let gap = Duration.milliseconds(options.gapMilliseconds)
        for _ in 0..<20 {
            try await queue.add("warmup", data: ["t": .int(microsecondsSinceEpoch())])
            try await Task.sleep(for: gap)
        }
        try await phase("pickup", jobs: options.count) {
            for _ in 0..<options.count {
                try await queue.add("ping", data: ["t": .int(microsecondsSinceEpoch())])
                try await Task.sleep(for: gap)
            }
        }
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func microsecondsSinceEpoch() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    // MARK: Line protocol

    /// Announces a phase, waits for `go`, times `body`, announces the end with the counts, waits for `go`.
    private static func phase(_ name: String, jobs: Int, flows: Int? = nil,
                              extras: () async throws -> [String: Double] = { [:] },
                              _ body: () async throws -> Void) async throws {
        try await say("BEGIN \(name)")
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let elapsed = ScenarioRunner.seconds(clock.now - start)
        var json = "{\"elapsed\":\(elapsed),\"jobs\":\(jobs)"
        if let flows { json += ",\"flows\":\(flows)" }
        for (key, value) in try await extras().sorted(by: { $0.key < $1.key }) { json += ",\"\(key)\":\(value)" }
        try await say("END \(name) \(json)}")
    }

    /// Writes one line to stdout and waits for the runner's `go` (read on a thread of its own, so the
    /// concurrency pool keeps running).
    private static func say(_ line: String) async throws {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            Thread.detachNewThread { continuation.resume(returning: readLine()) }
        }
        guard answer == "go" else { throw BenchmarkError("the runner answered \(answer ?? "nothing") instead of go") }
    }
}
