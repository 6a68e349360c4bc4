import Foundation
import Tributary

/// `TributaryBenchmarks scale` (scripts/bench.sh, rows X1 and X2; docs/scaling.md): how processing scales with
/// worker processes and with Redis Cluster masters.
///
/// - X1: one redis-server (TCP on 127.0.0.1), `--jobs` plain jobs added with addBulk, then processed by 1, 2 and 4
///   worker processes (`--processes`) at concurrency `--concurrency` each.
/// - X2: three independent queues whose hash tags fall on different masters, `--jobs` each, one worker process per
///   queue: on one redis-server, then on a Redis Cluster of three masters (no replicas) started here.
///
/// Each row gives jobs/s, and the CPU time of redis-server(s) and of the worker processes per processed job
/// (from /proc, over the processing phase): on a machine with few cores the rate is capped by the cores, and CPU
/// per job is the figure that carries over to bigger machines.
///
/// Usage: `TributaryBenchmarks scale [--jobs N] [--processes 1,2,4] [--concurrency N] [--only X1|X2]`
enum ScalingBenchmark {
    struct Options {
        var jobs = 30_000
        var processes = [1, 2, 4]
        var concurrency = 50
        var only: String?
        var timeout: Duration = .seconds(600)

        init(_ arguments: [String]) throws {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                guard let value = iterator.next() else { throw BenchmarkError("\(flag) needs a value") }
                switch flag {
                case "--jobs": jobs = Int(value) ?? 0
                case "--processes": processes = value.split(separator: ",").compactMap { Int($0) }
                case "--concurrency": concurrency = Int(value) ?? 0
                case "--only": only = value.uppercased()
                default: throw BenchmarkError("unknown option \(flag) (scale: --jobs N, --processes 1,2,4, --concurrency N, --only X1|X2)")
                }
            }
            guard jobs > 0, concurrency > 0, !processes.isEmpty, processes.allSatisfy({ $0 > 0 }) else {
                throw BenchmarkError("--jobs, --concurrency and --processes need positive numbers")
            }
        }
    }

    /// One measured row.
    struct Row {
        var label: String
        var processes: Int
        var jobs: Int
        var seconds: Double
        var redisTicks: Int
        var clientTicks: Int

        var rate: Double { Double(jobs) / seconds }
        var redisPercent: Double { Double(redisTicks) / ProcStats.ticksPerSecond / seconds * 100 }
        var redisMicros: Double { Double(redisTicks) / ProcStats.ticksPerSecond / Double(jobs) * 1e6 }
        var clientMicros: Double { Double(clientTicks) / ProcStats.ticksPerSecond / Double(jobs) * 1e6 }

        var markdown: String {
            String(format: "| %@ | %d | %d | %.2f | %.0f | %.0f%% | %.1f | %.1f |", label, processes, jobs, seconds, rate,
                   redisPercent, redisMicros, clientMicros)
        }
    }

    static func run(_ arguments: [String]) async throws {
        let options = try Options(arguments)
        let loadBefore = ProcStats.loadAverage()
        var rows: [Row] = []
        if options.only == nil || options.only == "X1" {
            let server = try RedisServerProcess()
            defer { server.stop() }
            for count in options.processes {
                _ = try server.cli(["FLUSHALL"])
                let row = try await measure(label: "X1 one Redis, 1 queue", servers: [server], url: server.url,
                                            queues: ["bench"], processesPerQueue: count, options: options)
                report(row)
                rows.append(row)
            }
        }
        if options.only == nil || options.only == "X2" {
            let queues = try spreadQueues()
            let single: Row
            do {
                let server = try RedisServerProcess()
                defer { server.stop() }
                single = try await measure(label: "X2 one Redis, 3 queues", servers: [server], url: server.url,
                                           queues: queues, processesPerQueue: 1, options: options)
            }
            report(single)
            rows.append(single)
            let cluster = try ClusterProcesses(masters: 3)
            defer { cluster.stop() }
            let spread = try await measure(label: "X2 3-master cluster, 3 queues", servers: cluster.servers, url: cluster.url,
                                           queues: queues, processesPerQueue: 1, options: options)
            report(spread)
            rows.append(spread)
        }
        print("""
            Scaling (TributaryBenchmarks scale; load before \(loadBefore), after \(ProcStats.loadAverage()); \
            \(ProcessInfo.processInfo.activeProcessorCount) cores; worker concurrency \(options.concurrency))

            | row | worker processes | jobs | seconds | jobs/s | Redis CPU | Redis µs/job | workers µs/job |
            |---|---|---|---|---|---|---|---|
            \(rows.map(\.markdown).joined(separator: "\n"))
            """)
    }

    /// Three queue names whose hash tags fall in the slot ranges that `redis-cli --cluster create` gives three
    /// masters (0-5460, 5461-10922, 10923-16383), so each queue lives on its own master.
    static func spreadQueues() throws -> [String] {
        let bounds = [0...5460, 5461...10922, 10923...16383]
        return try bounds.map { range in
            guard let tag = (0..<1000).map({ "s\($0)" }).first(where: { range.contains(HashSlot.of($0)) }) else {
                throw BenchmarkError("no tag found for slots \(range)")
            }
            return "{\(tag)}bench"
        }
    }

    /// Adds `--jobs` jobs to each queue, starts `processesPerQueue` worker processes per queue, lets them go at
    /// once and measures until every one has seen its queue's jobs completed.
    private static func measure(label: String, servers: [RedisServerProcess], url: String, queues: [String],
                                processesPerQueue: Int, options: Options) async throws -> Row {
        let client = try await RedisClient.connect(url: url)
        for name in queues {
            let queue = try Queue(name, client: client)
            var added = 0
            while added < options.jobs {
                let batch = min(5000, options.jobs - added)
                _ = try await queue.addBulk((0..<batch).map { JobRequest("job", data: ["i": .int(Int64(added + $0))]) })
                added += batch
            }
        }
        await client.close()
        let directory = servers[0].directory.path
        var workers: [ClientProcess] = []
        for (index, name) in queues.enumerated() {
            for copy in 0..<processesPerQueue {
                workers.append(try ClientProcess(selfPath(), arguments: [
                    "client", "--redis", url, "--scenario", "SCALE", "--role", "worker", "--queue", name,
                    "--count", String(options.jobs), "--concurrency", String(options.concurrency),
                ], label: "\(label) worker \(index).\(copy)", logPath: "\(directory)/scale-\(index)-\(copy).log"))
            }
        }
        for worker in workers {
            guard case .begin? = try worker.next(timeout: options.timeout) else { throw BenchmarkError("\(worker.label) did not begin") }
        }
        let redisStart = servers.map { ProcStats.cpuTicks($0.pid) ?? 0 }.reduce(0, +)
        let clientStart = workers.map { ProcStats.cpuTicks($0.pid) ?? 0 }.reduce(0, +)
        let start = ContinuousClock.now
        for worker in workers { worker.proceed() }
        for worker in workers {
            guard case .end? = try worker.next(timeout: options.timeout) else { throw BenchmarkError("\(worker.label) did not end") }
        }
        let seconds = ScenarioRunner.seconds(ContinuousClock.now - start)
        let redisEnd = servers.map { ProcStats.cpuTicks($0.pid) ?? 0 }.reduce(0, +)
        let clientEnd = workers.map { ProcStats.cpuTicks($0.pid) ?? 0 }.reduce(0, +)
        for worker in workers {
            worker.proceed()
            _ = try worker.drain(timeout: options.timeout)
        }
        return Row(label: label, processes: workers.count, jobs: options.jobs * queues.count, seconds: seconds,
                   redisTicks: redisEnd - redisStart, clientTicks: clientEnd - clientStart)
    }

    private static func report(_ row: Row) {
        FileHandle.standardError.write(Data(String(
            format: "%@, %d processes: %d jobs in %.2f s, %.0f jobs/s, redis %.0f%% %.1f µs/job, workers %.1f µs/job [load %@]\n",
            row.label, row.processes, row.jobs, row.seconds, row.rate, row.redisPercent, row.redisMicros, row.clientMicros,
            ProcStats.loadAverage()).utf8))
    }

    private static func selfPath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// A Redis Cluster of `masters` masters and no replicas, each a ``RedisServerProcess`` on 127.0.0.1.
final class ClusterProcesses {
    let servers: [RedisServerProcess]

    /// A seed list of every node.
    var url: String { "redis://" + servers.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    init(masters: Int) throws {
        var started: [RedisServerProcess] = []
        do {
            for _ in 0..<masters {
                started.append(try RedisServerProcess(extraArguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                ]))
            }
            _ = try RedisServerProcess.run("/usr/bin/redis-cli", ["--cluster", "create"]
                + started.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "0", "--cluster-yes"])
            for _ in 0..<300 {
                if try started.allSatisfy({ try $0.cli(["CLUSTER", "INFO"]).contains("cluster_state:ok") }) {
                    servers = started
                    return
                }
                usleep(100_000)
            }
            throw BenchmarkError("the benchmark cluster did not reach cluster_state:ok in 30 s")
        } catch {
            for server in started { server.stop() }
            throw error
        }
    }

    func stop() {
        for server in servers { server.stop() }
    }
}
