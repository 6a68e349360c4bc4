import Foundation
import NIOCore
import NIOPosix
import Tributary

/// Micro-benchmark of the Redis client against redis-benchmark, both on one private redis-server.
///
/// Usage: `TributaryBenchmarks [redis] [--requests N] [--nio-executor]`. Build in release (`scripts/bench-redis.sh`).
enum RedisBenchmark {
    static func run(_ arguments: [String]) async throws {
        let requests = arguments.firstIndex(of: "--requests").flatMap { Int(arguments[$0 + 1]) } ?? 200_000
        let concurrency = 50
        if arguments.contains("--nio-executor") {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let server = try RedisServerProcess()
        defer { server.stop() }
        let client = try await RedisClient.connect(url: "redis://127.0.0.1:\(server.port)")
        let script = RedisScript(source: "return redis.call('INCR', KEYS[1])")
        _ = try await client.send(script.loadCommand)

        // Warm up both the connection and the server.
        _ = try await measure(client, tasks: concurrency, total: 20_000) { RedisCommand("PING") }

        let sequential = try await measure(client, tasks: 1, total: requests / 10) { RedisCommand("PING") }
        let pipelinedPing = try await measure(client, tasks: concurrency, total: requests) { RedisCommand("PING") }
        let pipelinedScript = try await measure(client, tasks: concurrency, total: requests) {
            script.command(keys: ["bench:counter"], arguments: [])
        }
        await client.close()

        let evalsha = ["EVALSHA", script.sha1, "1", "bench:counter"]
        let rbSequential = try server.redisBenchmark(clients: 1, requests: requests / 10, command: ["PING"])
        let rbPing50 = try server.redisBenchmark(clients: concurrency, requests: requests, command: ["PING"])
        let rbPing50P = try server.redisBenchmark(clients: concurrency, requests: requests * 5, pipeline: 50, command: ["PING"])
        let rbScript50 = try server.redisBenchmark(clients: concurrency, requests: requests, command: evalsha)
        let rbScript50P = try server.redisBenchmark(clients: concurrency, requests: requests * 5, pipeline: 50, command: evalsha)

        let executor = arguments.contains("--nio-executor") ? "NIO event loop as global executor" : "default Swift executor"
        print("Redis client micro-benchmark: redis-server \(try RedisServerProcess.run("/usr/bin/redis-server", ["--version"]).split(separator: " ")[2]), one server, \(requests) requests per row, \(executor)")
        print("")
        print("| scenario | Tributary ops/s | redis-benchmark | redis-benchmark ops/s | Tributary / redis-benchmark |")
        print("|---|---:|---|---:|---:|")
        row("sequential PING, 1 task", sequential, "`-c 1`", rbSequential)
        row("PING, 50 tasks on 1 connection", pipelinedPing, "`-c 50`", rbPing50)
        row("PING, 50 tasks on 1 connection", pipelinedPing, "`-c 50 -P 50`", rbPing50P)
        row("EVALSHA, 50 tasks on 1 connection", pipelinedScript, "`-c 50`", rbScript50)
        row("EVALSHA, 50 tasks on 1 connection", pipelinedScript, "`-c 50 -P 50`", rbScript50P)
        let met = pipelinedPing >= rbPing50
        print("")
        print("Target (1 connection carrying 50 tasks >= redis-benchmark -c 50, PING): \(met ? "met" : "NOT met")")
    }

    static func row(_ name: String, _ ours: Double, _ flags: String, _ theirs: Double) {
        print("| \(name) | \(Int(ours)) | \(flags) | \(Int(theirs)) | \(String(format: "%.2f", ours / theirs)) |")
    }

    /// Runs `total` commands spread over `tasks` concurrent tasks; returns commands per second.
    static func measure(_ client: RedisClient, tasks: Int, total: Int, _ command: @escaping @Sendable () -> RedisCommand) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    let mine = total / tasks
                    let command = command()
                    for _ in 0..<mine { _ = try await client.send(command) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(total) / seconds
    }
}
