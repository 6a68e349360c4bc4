import Foundation
import Testing
@testable import Tributary

/// Deduplication and global limits between Python bullmq 3.4.4 and Tributary, both directions; the limits are
/// measured by the handlers of several worker processes (`tributary worker` for limits Python set, Python
/// workers for limits Tributary set).
@Suite("Interop: deduplication and global limits")
struct InteropLimitsTests {
    @Test("a deduplication id used by Python dedupes Tributary's add and the reverse; each side's worker frees the other's id")
    func deduplicationBothWays() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("dedup", client: client)
            let pythonIds = try await peer.addJobs([PeerJob("py", data: ["n": 1], opts: ["deduplication": ["id": "py-1"]])],
                                                   redisURL: server.unixURL, queue: "dedup")
            let mine = try await queue.add("sw", data: ["n": 2], options: .init(deduplication: .init(id: "py-1")))
            #expect(mine.addWasDeduplicated && mine.id == pythonIds[0] && mine.name == "py")

            let held = try await queue.add("sw", options: .init(deduplication: .init(id: "sw-1", ttl: .seconds(60))))
            let theirs = try await peer.addJobs([PeerJob("py", opts: ["deduplication": ["id": "sw-1"]])],
                                                redisURL: server.unixURL, queue: "dedup")
            #expect(theirs == [held.id])
            let seen = try await peer.run("limits", redisURL: server.unixURL, queue: "dedup", ["--dedupe-id", "sw-1"])
            #expect(seen["deduplicationJobId"]?.stringValue == held.id)
            #expect(try await queue.getJobCounts().waiting == 2)

            // Same layout from both sides: deid, opts.de, and the two deduplicated events.
            let python = try await hashFields(client, "bull:dedup:\(pythonIds[0])")
            let swift = try await hashFields(client, held.key)
            #expect(python["deid"] == "py-1" && swift["deid"] == "sw-1")
            #expect(try JSONValue.parse(python["opts"] ?? "")["de"] == ["id": "py-1"])
            #expect(try JSONValue.parse(swift["opts"] ?? "")["de"] == ["id": "sw-1", "ttl": 60000])
            let events = try await DeduplicationTests.events(client, "dedup").filter { $0["event"] == "deduplicated" }
            #expect(events.map { $0["jobId"] } == [pythonIds[0], held.id])
            #expect(events.map { $0["deduplicationId"] } == ["py-1", "sw-1"])
            #expect(events.allSatisfy { Set($0.keys) == ["event", "jobId", "deduplicationId", "deduplicatedJobId"] })

            // A Tributary worker finishes Python's job: its id (no ttl) is freed; the ttl'd one stays.
            let worker = try Worker(queue: "dedup", client: client) { _ in .null }
            let runner = Task { try await worker.run() }
            #expect(try await eventually(.seconds(60)) { try await queue.getJobCounts().completed == 2 })
            await worker.close()
            try await runner.value
            #expect(try await queue.getDeduplicationJobId("py-1") == nil)
            #expect(try await queue.getDeduplicationJobId("sw-1") == held.id)

            // A Python worker finishes Tributary's job: its id is freed too.
            let next = try await queue.add("sw", options: .init(deduplication: .init(id: "sw-2")))
            #expect(try await queue.getDeduplicationJobId("sw-2") == next.id)
            _ = try await peer.work(redisURL: server.unixURL, queue: "dedup", count: 1)
            #expect(try await queue.getState(next.id) == .completed)
            #expect(try await queue.getDeduplicationJobId("sw-2") == nil)
        }
    }

    /// A command step that records, in Redis, how many handlers run at once (`probe:now`, peak in `probe:peak`)
    /// and when each started (`probe:starts`, Redis time in ms), then works for `seconds`.
    static func probeCommand(socket: String, seconds: String) -> [String] {
        let enter = "local n = redis.call('INCR', KEYS[1]) "
            + "if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end "
            + "local t = redis.call('TIME') redis.call('RPUSH', KEYS[3], t[1] * 1000 + math.floor(t[2] / 1000)) return n"
        let script = "set -e; redis-cli -s \"$0\" EVAL \"\(enter)\" 3 probe:now probe:peak probe:starts > /dev/null; "
            + "sleep \(seconds); redis-cli -s \"$0\" DECR probe:now > /dev/null; echo '{}'"
        return ["sh", "-c", script, socket]
    }

    /// Starts `count` `tributary worker` processes (concurrency 10 each) on `queue` until `body` returns.
    func withWorkerProcesses(_ count: Int, queue: String, server: TestRedisServer,
                             _ body: () async throws -> Void) async throws {
        try await withCLIDirectory { directory in
            var running: [pid_t] = []
            defer {
                for pid in running { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
            }
            for index in 0..<count {
                running.append(try CLIProcess.spawn(
                    ["worker", "-q", queue, "--concurrency", "10", "--allow-commands", "--redis", server.unixURL,
                     "--name", "w\(index)"], in: directory, logFile: directory + "/worker\(index).log"))
            }
            try await body()
            for pid in running { kill(pid, SIGTERM) }
            var stopped: [pid_t] = []
            for pid in running where await CLIProcess.waitForExit(pid, timeout: .seconds(30)) != nil { stopped.append(pid) }
            running.removeAll { stopped.contains($0) }
        }
    }

    @Test("a global concurrency of 3 set by Python: three worker processes of concurrency 10 never run more than 3 at once")
    func globalConcurrencyFromPython() async throws {
        try await withPythonPeer { server, client, peer in
            let set = try await peer.run("limits", redisURL: server.unixURL, queue: "capped", ["--concurrency", "3"])
            #expect(set["concurrency"] == 3)
            let queue = try Queue("capped", client: client)
            #expect(try await queue.getGlobalConcurrency() == 3)
            let command = Self.probeCommand(socket: server.socketPath, seconds: "0.3")
            var ids: [String] = []
            for _ in 0..<24 { ids.append(try await addCommandJob(queue, client, command: command).id) }
            try await withWorkerProcesses(3, queue: "capped", server: server) { () async throws in
                #expect(try await eventually(.seconds(120)) { try await queue.getJobCounts().completed == 24 })
            }
            let peak = Int(try await client.send(RedisCommand("GET", "probe:peak")).string ?? "") ?? 0
            print("global concurrency 3, 3 processes x concurrency 10: peak \(peak) handlers at once")
            #expect(peak <= 3, "the handlers saw \(peak) running at once")
            #expect(peak >= 2, "the workers ran jobs in parallel at all (peak \(peak))")
            #expect(try await queue.getJobCounts().failed == 0)
        }
    }

    @Test("a global rate limit of 2 per second set by Python: worker processes start at most 2 jobs per window")
    func globalRateLimitFromPython() async throws {
        try await withPythonPeer { server, client, peer in
            let set = try await peer.run("limits", redisURL: server.unixURL, queue: "metered",
                                         ["--rate-max", "2", "--rate-duration", "1000"])
            #expect(set["rateLimit"] == ["max": 2, "duration": 1000])
            let queue = try Queue("metered", client: client)
            #expect(try await queue.getGlobalRateLimit() == RateLimit(max: 2, duration: .seconds(1)))
            let command = Self.probeCommand(socket: server.socketPath, seconds: "0")
            for _ in 0..<8 { _ = try await addCommandJob(queue, client, command: command) }
            try await withWorkerProcesses(2, queue: "metered", server: server) { () async throws in
                #expect(try await eventually(.seconds(120)) { try await queue.getJobCounts().completed == 8 })
            }
            // When each job was taken (processedOn, set in the step that counts it against the window); the
            // handlers' own start times (probe:starts) agree but carry the process start-up jitter.
            let starts = try await queue.getJobs([.completed]).compactMap(\.processedOn).sorted()
            let handlerStarts = try await client.send(RedisCommand("LLEN", "probe:starts")).int
            #expect(starts.count == 8 && handlerStarts == 8)
            // 8 takes at 2 per 1 s window need four windows: the last about 3 s after the first (generous bound:
            // 2.2 s); unlimited, two workers of concurrency 10 take all 8 within milliseconds.
            print("global rate 2/1s, 8 jobs: takes at +\(starts.map { $0 - starts[0] }) ms")
            #expect(starts.last! - starts.first! >= 2200, "\(starts)")
            // A span shorter than a window overlaps at most two windows: at most 4 takes in any 800 ms.
            for (index, start) in starts.enumerated() {
                #expect(starts[index...].prefix { $0 < start + 800 }.count <= 4, "\(starts)")
            }
        }
    }

    /// Runs `processes` Python workers (concurrency 10 each, handlers probed as ``PythonPeer/work``'s `probe`
    /// describes) on `queue` until it holds `total` finished jobs.
    ///
    /// Python bullmq 3.4.4's workers do not wake up when a global concurrency or rate limit lets a job start
    /// again: its moveToFinished adds no marker then, and an idle Python worker blocks on the marker (a queue
    /// whose limit Python set itself, with Python workers only, stops after the first 3 of 12 jobs, and goes on
    /// when a marker is added by hand). So while they run, the test sets the marker every 200 ms. That only makes
    /// them ask: moveToActive still refuses a job while the queue is at its limit, which is what the handlers
    /// measure.
    func runPythonWorkers(_ processes: Int, queue: String, total: Int, probe: Duration, server: TestRedisServer,
                          client: RedisClient, peer: PythonPeer) async throws {
        let nudge = Task {
            while !Task.isCancelled {
                _ = try? await client.send(RedisCommand("ZADD", .string("bull:\(queue):marker"), "0", "0"))
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { nudge.cancel() }
        try await withThrowingTaskGroup(of: PeerWorkResult.self) { group in
            for _ in 0..<processes {
                group.addTask {
                    try await peer.work(redisURL: server.unixURL, queue: queue, count: 1, concurrency: 10, probe: probe,
                                        queueTotal: total, timeout: .seconds(120))
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a global concurrency of 3 set by Tributary: three Python worker processes of concurrency 10 never run more than 3 at once")
    func globalConcurrencyFromTributary() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("capped", client: client)
            try await queue.setGlobalConcurrency(3)
            let seen = try await peer.run("limits", redisURL: server.unixURL, queue: "capped")
            #expect(seen["concurrency"] == 3)
            for index in 0..<24 { _ = try await queue.add("probe", data: ["n": .int(Int64(index))]) }
            try await runPythonWorkers(3, queue: "capped", total: 24, probe: .milliseconds(300), server: server, client: client, peer: peer)
            #expect(try await queue.getJobCounts().completed == 24)
            let peak = Int(try await client.send(RedisCommand("GET", "probe:peak")).string ?? "") ?? 0
            let handlers = try await client.send(RedisCommand("LLEN", "probe:starts")).int
            print("global concurrency 3 set by Tributary, 3 Python processes x concurrency 10: peak \(peak) handlers at once")
            #expect(handlers == 24)
            #expect(peak <= 3, "the Python handlers saw \(peak) running at once")
            #expect(peak >= 2, "the Python workers ran jobs in parallel at all (peak \(peak))")
        }
    }

    @Test("a global rate limit of 2 per second set by Tributary: Python worker processes start at most 2 jobs per window")
    func globalRateLimitFromTributary() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("metered", client: client)
            try await queue.setGlobalRateLimit(max: 2, duration: .seconds(1))
            let seen = try await peer.run("limits", redisURL: server.unixURL, queue: "metered")
            #expect(seen["rateLimit"] == ["max": 2, "duration": 1000])
            for index in 0..<8 { _ = try await queue.add("probe", data: ["n": .int(Int64(index))]) }
            try await runPythonWorkers(2, queue: "metered", total: 8, probe: .zero, server: server, client: client, peer: peer)
            // The handlers' start times (Redis time, ms), and when each job was taken (processedOn).
            let handlerStarts = (try await client.send(RedisCommand("LRANGE", "probe:starts", "0", "-1")).array ?? [])
                .compactMap { $0.string.flatMap { Int64($0) } }.sorted()
            let starts = try await queue.getJobs([.completed]).compactMap(\.processedOn).sorted()
            #expect(starts.count == 8 && handlerStarts.count == 8)
            guard starts.count == 8, handlerStarts.count == 8 else { return }
            print("global rate 2/1s set by Tributary, 8 jobs, 2 Python processes: takes at +\(starts.map { $0 - starts[0] }) ms, "
                + "handlers started at +\(handlerStarts.map { $0 - handlerStarts[0] }) ms")
            // 8 takes at 2 per 1 s window need four windows: the last about 3 s after the first (generous bound:
            // 2.2 s); unlimited, two workers of concurrency 10 take all 8 within milliseconds.
            #expect(starts.last! - starts.first! >= 2200, "\(starts)")
            #expect(handlerStarts.last! - handlerStarts.first! >= 2200, "\(handlerStarts)")
            // A span shorter than a window overlaps at most two windows: at most 4 takes in any 800 ms.
            for (index, start) in starts.enumerated() {
                #expect(starts[index...].prefix { $0 < start + 800 }.count <= 4, "\(starts)")
            }
        }
    }

    @Test("limits set by Tributary read back in Python; Python's removal clears them for Tributary")
    func limitsReadBothWays() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("shared", client: client)
            try await queue.setGlobalConcurrency(5)
            try await queue.setGlobalRateLimit(max: 7, duration: .milliseconds(1500))
            let seen = try await peer.run("limits", redisURL: server.unixURL, queue: "shared")
            #expect(seen["concurrency"] == 5 && seen["rateLimit"] == ["max": 7, "duration": 1500])
            _ = try await peer.run("limits", redisURL: server.unixURL, queue: "shared", ["--clear"])
            #expect(try await queue.getLimits() == QueueLimits())
        }
    }
}
