import Testing
@testable import Tributary

/// BullMQ's per-minute metrics written by Tributary workers (`WorkerOptions.metrics`) and read with
/// `Queue.getMetrics`, and the same layout shared with Python bullmq in both directions.
@Suite("Queue metrics")
struct QueueMetricsTests {
    /// Moves the metrics hash's `prevTS` back `minutes` whole minutes (to 1 s into that minute), as if its last
    /// minute had been closed then; returns the value written. With `forgettingClosedMinutes`, also as if no minute
    /// had been closed before (`prevCount` 0, no points): the jobs a test finished before may have straddled a
    /// wall-clock minute, which closes one on its own.
    @discardableResult
    static func backdate(_ client: RedisClient, _ key: String, minutes: Int64,
                         forgettingClosedMinutes: Bool = false) async throws -> Int64 {
        let previous = (EpochClock.milliseconds() / 60_000 - minutes) * 60_000 + 1_000
        try await client.send(RedisCommand("HSET", .string(key), "prevTS", .integer(previous)))
        if forgettingClosedMinutes {
            try await client.send(RedisCommand("HSET", .string(key), "prevCount", "0"))
            try await client.send(RedisCommand("DEL", .string(key + ":data")))
        }
        return previous
    }

    /// A metrics hash's points, newest first.
    static func points(_ client: RedisClient, _ key: String) async throws -> [Int] {
        try await client.send(RedisCommand("LRANGE", .string(key + ":data"), "0", "-1")).array?
            .compactMap { $0.string.flatMap { Int($0) } } ?? []
    }

    /// The minutes a finish closed: from the backdated `prevTS` to the one the finish wrote, at most `limit`.
    static func closedMinutes(from previous: Int64, _ client: RedisClient, _ key: String, limit: Int) async throws -> Int {
        let now = Int64(try await hashFields(client, key)["prevTS"] ?? "") ?? 0
        return min(Int(now / 60_000 - previous / 60_000), limit)
    }

    @Test("a worker with metrics counts completed and failed jobs in BullMQ's hashes and per-minute lists")
    func layout() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client, options: .init(metrics: .init(maxDataPoints: 5))) { job in
                if job.name == "bad" { throw TestFailure("bad job") }
                return .null
            }
            let completedKey = "bull:jobs:metrics:completed", failedKey = "bull:jobs:metrics:failed"
            try await whileRunning([worker]) { () async throws in
                try await queue.addBulk([JobRequest("good"), JobRequest("good"), JobRequest("good"), JobRequest("bad")])
                #expect(try await eventually { let counts = try await queue.getJobCounts(); return counts.completed == 3 && counts.failed == 1 })
                // The first job sets prevTS. Usually no minute has been closed yet; if the jobs straddled a
                // wall-clock minute, the points of the closed minutes hold what was counted before.
                var completed = try await hashFields(client, completedKey)
                #expect(completed["count"] == "3" && completed["prevTS"] != nil)
                #expect(Int(completed["prevCount"] ?? "") == (try await Self.points(client, completedKey)).reduce(0, +))
                #expect(try await hashFields(client, failedKey)["count"] == "1")

                // Three minutes later (as far as the hash knows, with no minute closed before): the next job closes
                // the minute that counted 3 and two empty ones.
                let previous = try await Self.backdate(client, completedKey, minutes: 3, forgettingClosedMinutes: true)
                try await queue.add("good")
                #expect(try await eventually { try await queue.getJobCounts().completed == 4 })
                let closed = try await Self.closedMinutes(from: previous, client, completedKey, limit: 5)
                #expect(closed >= 3)
                let data = try await client.send(RedisCommand("LRANGE", .string(completedKey + ":data"), "0", "-1")).array?
                    .compactMap(\.string)
                #expect(data == Array(repeating: "0", count: closed - 1) + ["3"])
                completed = try await hashFields(client, completedKey)
                #expect(completed["count"] == "4" && completed["prevCount"] == "3")

                let metrics = try await queue.getMetrics(.completed)
                #expect(metrics.meta.count == 4 && metrics.meta.prevCount == 3)
                #expect(String(metrics.meta.prevTS) == completed["prevTS"])
                #expect(metrics.data == Array(repeating: 0, count: closed - 1) + [3] && metrics.count == closed)
                #expect(try await queue.getMetrics(.completed, start: closed - 1, end: closed - 1).data == [3])
                #expect(try await queue.getMetrics(.failed).meta.count == 1)

                // A long pause: only maxDataPoints points are kept.
                try await Self.backdate(client, completedKey, minutes: 30)
                try await queue.add("good")
                #expect(try await eventually { try await queue.getJobCounts().completed == 5 })
                let trimmed = try await queue.getMetrics(.completed)
                #expect(trimmed.count == 5 && trimmed.data == [0, 0, 0, 0, 1], "\(trimmed)")
            }
        }
    }

    @Test("without metrics nothing is written; many jobs finished in batches are each counted once")
    func offAndBatched() async throws {
        try await withQueue { queue, client, _ in
            let plain = try Worker(queue: "jobs", client: client) { _ in .null }
            try await queue.addBulk((0..<5).map { _ in JobRequest("job") })
            try await whileRunning([plain]) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == 5 })
            }
            let keys = try await client.send(RedisCommand("KEYS", "bull:jobs:metrics*")).array ?? []
            #expect(keys.isEmpty, "\(keys)")
            #expect(try await queue.getMetrics(.completed) == QueueMetrics(meta: .init(count: 0, prevTS: 0, prevCount: 0), data: [], count: 0))

            let busy = try Worker(queue: "jobs", client: client,
                                  options: .init(concurrency: 16, metrics: .init(maxDataPoints: MetricsTime.oneHour))) { _ in .null }
            try await queue.addBulk((0..<300).map { _ in JobRequest("job") })
            try await whileRunning([busy]) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == 305 })
            }
            #expect(try await queue.getMetrics(.completed).meta.count == 300)
        }
    }

    @Test("maxDataPoints below 1 is refused when the worker is made")
    func invalidPoints() async throws {
        try await withQueue { _, client, _ in
            #expect(throws: QueueError.self) {
                try Worker(queue: "jobs", client: client, options: .init(metrics: .init(maxDataPoints: 0))) { _ in .null }
            }
        }
    }
}

/// The metrics layout shared with Python bullmq 3.4.4.
@Suite("Interop: queue metrics")
struct InteropMetricsTests {
    @Test("Python's getMetrics reads what a Tributary worker wrote")
    func tributaryWritesPythonReads() async throws {
        try await withPythonPeer(overTCP: true) { server, client, peer in
            let queue = try Queue("shared", client: client)
            let worker = try Worker(queue: "shared", client: client, options: .init(metrics: .init(maxDataPoints: 10))) { job in
                if job.name == "bad" { throw TestFailure("bad") }
                return .null
            }
            let key = queue.keys.metrics(.completed)
            try await whileRunning([worker]) { () async throws in
                try await queue.addBulk([JobRequest("good"), JobRequest("good"), JobRequest("bad")])
                #expect(try await eventually { let counts = try await queue.getJobCounts(); return counts.completed == 2 && counts.failed == 1 })
                try await QueueMetricsTests.backdate(client, key, minutes: 2, forgettingClosedMinutes: true)
                try await queue.add("good")
                #expect(try await eventually { try await queue.getJobCounts().completed == 3 })
            }
            for type in MetricsType.allCases {
                let python = try await peer.metrics(type, redisURL: server.tcpURL, queue: "shared")
                #expect(python == (try await queue.getMetrics(type)), "\(type)")
            }
            let python = try await peer.metrics(.completed, redisURL: server.tcpURL, queue: "shared")
            #expect(python.meta.count == 3 && python.meta.prevCount == 2 && python.data.last == 2 && python.data.count >= 2)
            #expect(try await peer.metrics(.completed, start: 0, end: 0, redisURL: server.tcpURL, queue: "shared").data == [0])
            #expect(try await peer.metrics(.failed, redisURL: server.tcpURL, queue: "shared").meta.count == 1)
        }
    }

    @Test("Tributary's getMetrics reads what a Python worker wrote, and a Tributary worker goes on counting in it")
    func pythonWritesTributaryReads() async throws {
        try await withPythonPeer(overTCP: true) { server, client, peer in
            let queue = try Queue("shared", client: client)
            let key = queue.keys.metrics(.completed)
            try await queue.addBulk([JobRequest("good"), JobRequest("good"), JobRequest("bad")])
            let first = try await peer.work(redisURL: server.tcpURL, queue: "shared", count: 3, failNames: ["bad"],
                                            metricsPoints: 10)
            #expect(first.completed.count == 2 && first.failed.count == 1)
            let previous = try await QueueMetricsTests.backdate(client, key, minutes: 2, forgettingClosedMinutes: true)
            try await queue.add("good")
            _ = try await peer.work(redisURL: server.tcpURL, queue: "shared", count: 1, metricsPoints: 10)
            let closed = try await QueueMetricsTests.closedMinutes(from: previous, client, key, limit: 10)
            let metrics = try await queue.getMetrics(.completed)
            #expect(metrics.meta.count == 3 && metrics.meta.prevCount == 2)
            #expect(metrics.data == Array(repeating: 0, count: closed - 1) + [2] && metrics.count == closed, "\(metrics)")
            #expect(metrics == (try await peer.metrics(.completed, redisURL: server.tcpURL, queue: "shared")))
            #expect(try await queue.getMetrics(.failed).meta.count == 1)

            // A Tributary worker continues the same counters.
            let worker = try Worker(queue: "shared", client: client, options: .init(metrics: .init(maxDataPoints: 10))) { _ in .null }
            try await whileRunning([worker]) { () async throws in
                try await queue.add("good")
                #expect(try await eventually { try await queue.getJobCounts().completed == 4 })
            }
            #expect(try await peer.metrics(.completed, redisURL: server.tcpURL, queue: "shared").meta.count == 4)
        }
    }
}
