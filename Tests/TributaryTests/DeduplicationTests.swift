import Synchronization
import Testing
@testable import Tributary

/// Deduplication ids (`JobOptions.deduplication`): BullMQ's `de:<id>` key, `deid` field, `deduplicated` event.
@Suite("Deduplication")
struct DeduplicationTests {
    /// The events of the queue's stream, as [event name: [fields]] in order.
    static func events(_ client: RedisClient, _ queue: String = "jobs") async throws -> [[String: String]] {
        let entries = try await client.send(RedisCommand("XRANGE", .string("bull:\(queue):events"), "-", "+")).array ?? []
        return entries.map { ($0.array?[1].array ?? []).fieldPairs }
    }

    private func running<T>(_ worker: Worker, _ body: () async throws -> T) async throws -> T {
        try await whileRunning([worker], body)
    }

    @Test("a second add with the same id stores nothing and returns the holder, marked; key, deid, opts.de and event as BullMQ's")
    func secondAddIsDeduplicated() async throws {
        try await withQueue { queue, client, _ in
            let options = JobOptions(deduplication: .init(id: "report-1"))
            let first = try await queue.add("report", data: ["n": 1], options: options)
            #expect(!first.addWasDeduplicated)
            let second = try await queue.add("report", data: ["n": 2], options: options)
            #expect(second.addWasDeduplicated)
            #expect(second.id == first.id)
            #expect(second.data == ["n": 1])  // the holder's data, as read in the same step
            #expect(try await queue.getJobCounts().waiting == 1)
            #expect(try await queue.getDeduplicationJobId("report-1") == first.id)
            let stored = try await hashFields(client, first.key)
            #expect(stored["deid"] == "report-1")
            #expect(try JSONValue.parse(stored["opts"] ?? "")["de"] == ["id": "report-1"])
            // The counter moved for the skipped add too (as BullMQ's INCR does), and that id is in the event.
            let skippedId = try await client.send(RedisCommand("GET", "bull:jobs:id")).string
            #expect(skippedId == "2")
            let deduplicated = try await Self.events(client).filter { $0["event"] == "deduplicated" }
            #expect(deduplicated == [["event": "deduplicated", "jobId": first.id, "deduplicationId": "report-1",
                                      "deduplicatedJobId": "2"]])
            #expect(try await client.send(RedisCommand("PTTL", "bull:jobs:de:report-1")).int == -1)
            // QueueEvents reads the event with its fields.
            let event = try await QueueEvents(queue: "jobs", client: client, startingAfter: "0")
                .first { $0.name == "deduplicated" }
            #expect(event?.jobId == first.id && event?.deduplicationId == "report-1" && event?.deduplicatedJobId == "2")
        }
    }

    @Test("without ttl the id is freed when the holder completes or fails for good, not when it is retried")
    func freedWhenFinished() async throws {
        try await withQueue { queue, client, _ in
            let attempts = Counter()
            let worker = try Worker(queue: "jobs", client: client) { job in
                if job.name == "flaky", attempts.increment() == 1 { throw TestFailure("first attempt fails") }
                if job.name == "broken" { throw UnrecoverableError("no") }
                return .null
            }
            let flaky = try await queue.add("flaky", options: .init(attempts: 2, backoff: .fixed(delay: .seconds(2)),
                                                                     deduplication: .init(id: "f")))
            let broken = try await queue.add("broken", options: .init(deduplication: .init(id: "b")))
            try await running(worker) { () async throws in
                // While the retry waits out its backoff, the id is still held.
                #expect(try await eventually(.seconds(60)) { try await queue.getState(flaky.id) == .delayed })
                #expect(try await queue.getDeduplicationJobId("f") == flaky.id)
                #expect(try await eventually(.seconds(60)) { try await queue.getState(flaky.id) == .completed })
                #expect(try await eventually(.seconds(60)) { try await queue.getState(broken.id) == .failed })
            }
            #expect(try await queue.getDeduplicationJobId("f") == nil)
            #expect(try await queue.getDeduplicationJobId("b") == nil)
            let again = try await queue.add("flaky", options: .init(deduplication: .init(id: "f")))
            #expect(!again.addWasDeduplicated && again.id != flaky.id)
        }
    }

    @Test("with a ttl the id outlives the holder until it expires; extend restarts the ttl on each skipped add")
    func ttlAndExtend() async throws {
        try await withQueue { queue, client, _ in
            let held = try await queue.add("a", options: .init(deduplication: .init(id: "t", ttl: .seconds(60))))
            let ttl = try #require(try await client.send(RedisCommand("PTTL", "bull:jobs:de:t")).int)
            #expect(ttl > 50_000 && ttl <= 60_000)
            #expect(try await queue.add("a", options: .init(deduplication: .init(id: "t", ttl: .seconds(60)))).addWasDeduplicated)
            try await client.send(RedisCommand("PEXPIRE", "bull:jobs:de:t", "200"))
            #expect(try await eventually { try await queue.getDeduplicationJobId("t") == nil })
            let next = try await queue.add("a", options: .init(deduplication: .init(id: "t", ttl: .seconds(60))))
            #expect(!next.addWasDeduplicated && next.id != held.id)

            _ = try await queue.add("e", options: .init(deduplication: .init(id: "x", ttl: .seconds(30))))
            try await client.send(RedisCommand("PEXPIRE", "bull:jobs:de:x", "5000"))
            let skipped = try await queue.add("e", options: .init(deduplication: .init(id: "x", ttl: .seconds(30), extend: true)))
            #expect(skipped.addWasDeduplicated)
            let extended = try #require(try await client.send(RedisCommand("PTTL", "bull:jobs:de:x")).int)
            #expect(extended > 20_000)
        }
    }

    @Test("replace: a delayed holder is removed and the new job takes the id; a waiting holder is kept")
    func replace() async throws {
        try await withQueue { queue, client, _ in
            let delayed = try await queue.add("d", data: ["v": 1], options: .init(delay: .seconds(60), deduplication: .init(id: "r")))
            let replacing = try await queue.add("d", data: ["v": 2],
                                                options: .init(delay: .seconds(60), deduplication: .init(id: "r", replace: true)))
            #expect(!replacing.addWasDeduplicated && replacing.id != delayed.id)
            #expect(try await queue.getJob(delayed.id) == nil)
            #expect(try await queue.getDeduplicationJobId("r") == replacing.id)
            let events = try await Self.events(client)
            #expect(events.contains { $0["event"] == "removed" && $0["jobId"] == delayed.id && $0["prev"] == "delayed" })
            #expect(events.contains { $0["event"] == "deduplicated" && $0["jobId"] == replacing.id
                && $0["deduplicatedJobId"] == delayed.id })

            let waiting = try await queue.add("w", options: .init(deduplication: .init(id: "k")))
            let kept = try await queue.add("w", options: .init(deduplication: .init(id: "k", replace: true)))
            #expect(kept.addWasDeduplicated && kept.id == waiting.id)
            #expect(try await queue.getState(waiting.id) == .waiting)
        }
    }

    @Test("a removed holder frees the id; removeDeduplicationKey frees it at once; a stale id without its job is taken over")
    func removalAndStaleIds() async throws {
        try await withQueue { queue, client, _ in
            let holder = try await queue.add("a", options: .init(deduplication: .init(id: "gone")))
            _ = try await queue.removeJob(holder.id)
            #expect(try await queue.getDeduplicationJobId("gone") == nil)

            let other = try await queue.add("a", options: .init(deduplication: .init(id: "manual")))
            #expect(try await queue.removeDeduplicationKey("manual"))
            #expect(try await !queue.removeDeduplicationKey("manual"))
            let fresh = try await queue.add("a", options: .init(deduplication: .init(id: "manual")))
            #expect(!fresh.addWasDeduplicated && fresh.id != other.id)

            // A key without expiry pointing at a job that no longer exists (deleted behind the queue's back).
            try await client.send(RedisCommand("SET", "bull:jobs:de:stale", "404"))
            let taker = try await queue.add("a", options: .init(deduplication: .init(id: "stale")))
            #expect(!taker.addWasDeduplicated)
            #expect(try await queue.getDeduplicationJobId("stale") == taker.id)
        }
    }

    @Test("addBulk: later jobs of one bulk are deduplicated against earlier ones; options are validated")
    func bulkAndValidation() async throws {
        try await withQueue { queue, _, _ in
            let jobs = try await queue.addBulk([
                JobRequest("a", options: .init(deduplication: .init(id: "same"))),
                JobRequest("b", options: .init(deduplication: .init(id: "same"))),
                JobRequest("c"),
            ])
            #expect(jobs.map(\.addWasDeduplicated) == [false, true, false])
            #expect(jobs[1].id == jobs[0].id && jobs[1].name == "a")
            await #expect(throws: QueueError.self) {
                try await queue.add("x", options: .init(deduplication: .init(id: "")))
            }
            await #expect(throws: QueueError.self) {
                try await queue.add("x", options: .init(deduplication: .init(id: "y", extend: true)))
            }
            await #expect(throws: QueueError.self) {
                try await queue.add("x", options: .init(deduplication: .init(id: "y", ttl: .zero)))
            }
        }
    }

    @Test("FlowProducer: a deduplicated leaf returns the holder; deduplication on a node with children is refused")
    func flowProducer() async throws {
        try await withQueue { queue, client, _ in
            let holder = try await queue.add("leaf", options: .init(deduplication: .init(id: "leaf")))
            let producer = FlowProducer(client: client)
            let tree = try await producer.add(FlowJob("root", queue: "jobs", children: [
                FlowJob("leaf", queue: "jobs", options: .init(deduplication: .init(id: "leaf"))),
                FlowJob("other", queue: "jobs"),
            ]))
            #expect(tree.children[0].job.addWasDeduplicated && tree.children[0].job.id == holder.id)
            // The holder is not the root's child: the root waits for 'other' only.
            let pending = try await client.send(RedisCommand("SMEMBERS", .string(tree.job.key + ":dependencies"))).array ?? []
            #expect(pending.compactMap(\.string) == [tree.children[1].job.key])
            await #expect(throws: QueueError.self) {
                try await producer.add(FlowJob("root", queue: "jobs", options: .init(deduplication: .init(id: "p")),
                                               children: [FlowJob("c", queue: "jobs")]))
            }
        }
    }
}

/// A thread-safe counter for handlers.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// Adds one and returns the new value.
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    var current: Int { value.withLock { $0 } }
}
