import Testing
@testable import Tributary

/// BullMQ's `keepLastIfActive`: an add skipped while the holder runs is kept in `dn:<id>` and added when the holder
/// finishes.
@Suite("Deduplication: keepLastIfActive")
struct DeduplicationKeepLastTests {
    static func keepLast(_ id: String, ttl: Duration? = nil) -> JobOptions {
        JobOptions(deduplication: .init(id: id, ttl: ttl, keepLastIfActive: true))
    }

    @Test("adds skipped while the holder runs keep the last one in dn:<id>; it is added with its id when the holder finishes")
    func lastAddRunsAfterTheHolder() async throws {
        try await withQueue { queue, client, _ in
            let gate = Gate()
            let seen = RecordedMessages()
            let worker = try Worker(queue: "jobs", client: client) { job in
                await seen.record("\(job.id):\(job.data["v"]?.intValue ?? -1)")
                if job.data["v"] == 1 { await gate.wait() }
                return job.data
            }
            // A holder that is only waiting drops a skipped add, as without the option.
            let holder = try await queue.add("sync", data: ["v": 1], options: Self.keepLast("s", ttl: .seconds(60)))
            let early = try await queue.add("sync", data: ["v": 0], options: Self.keepLast("s", ttl: .seconds(60)))
            #expect(early.addWasDeduplicated && early.keptNextJobId == nil && early.id == holder.id)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:dn:s")).int == 0)
            // Under keepLastIfActive the id is held without expiry, whatever the ttl says (as in BullMQ).
            #expect(try await client.send(RedisCommand("PTTL", "bull:jobs:de:s")).int == -1)

            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await queue.getState(holder.id) == .active })
                let second = try await queue.add("sync", data: ["v": 2], options: Self.keepLast("s", ttl: .seconds(60)))
                let third = try await queue.add("sync", data: ["v": 3], options: Self.keepLast("s", ttl: .seconds(60)))
                #expect(second.addWasDeduplicated && second.id == holder.id && second.keptNextJobId == "3")
                #expect(third.addWasDeduplicated && third.id == holder.id && third.keptNextJobId == "4")
                // One kept job, the last: BullMQ's fields.
                let next = try await hashFields(client, "bull:jobs:dn:s")
                #expect(Set(next.keys) == ["name", "data", "opts", "jid"])
                #expect(next["name"] == "sync" && next["jid"] == "4")
                #expect(try JSONValue.parse(next["data"] ?? "") == ["v": 3])
                #expect(try JSONValue.parse(next["opts"] ?? "")["de"] == ["id": "s", "ttl": 60000, "keepLastIfActive": true])
                #expect(try await queue.getJobCounts().waiting == 0)
                let events = try await DeduplicationTests.events(client).filter { $0["event"] == "deduplicated" }
                #expect(events.map { $0["deduplicatedJobId"] } == ["2", "3", "4"])
                #expect(events.allSatisfy { $0["jobId"] == holder.id && $0["deduplicationId"] == "s" })

                await gate.open()
                #expect(try await eventually { try await queue.getState("4") == .completed })
            }
            #expect(try await queue.getState(holder.id) == .completed)
            #expect(try await queue.getJob("3") == nil)
            let kept = try #require(try await queue.getJob("4"))
            #expect(kept.data == ["v": 3] && kept.deduplicationId == "s")
            #expect(await seen.messages == ["1:1", "4:3"])
            // The kept job held the id while it ran and freed it when it finished; nothing is kept any more.
            #expect(try await queue.getDeduplicationJobId("s") == nil)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:dn:s")).int == 0)
            let order = try await DeduplicationTests.events(client).filter { $0["jobId"] == "4" }.map { $0["event"] ?? "" }
            #expect(Array(order.prefix(2)) == ["added", "waiting"])
        }
    }

    @Test("a holder that fails for good also releases its kept job; a removed holder drops it; a stale id drops it")
    func failureRemovalAndStaleIds() async throws {
        try await withQueue { queue, client, _ in
            let gate = Gate()
            let worker = try Worker(queue: "jobs", client: client) { job in
                if job.name == "boom" {
                    await gate.wait()
                    throw UnrecoverableError("boom")
                }
                return .null
            }
            let holder = try await queue.add("boom", options: Self.keepLast("f"))
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await queue.getState(holder.id) == .active })
                let kept = try await queue.add("after", options: Self.keepLast("f"))
                await gate.open()  // before anything that may throw: a closed gate would hold the worker forever
                let keptId = try #require(kept.keptNextJobId)
                #expect(try await eventually { try await queue.getState(keptId) == .completed })
                #expect(try await queue.getState(holder.id) == .failed)
            }

            // Removing the holder drops what was kept for it (BullMQ's removeJob deletes dn:<id> too).
            let removed = try await queue.add("r", options: Self.keepLast("gone"))
            try await client.send(RedisCommand("HSET", "bull:jobs:dn:gone", "name", "x", "data", "{}", "opts", "{}", "jid", "99"))
            _ = try await queue.removeJob(removed.id)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:dn:gone")).int == 0)

            // A stale id (no expiry, its job gone): the next add takes it over and the stale kept job is dropped.
            try await client.send(RedisCommand("SET", "bull:jobs:de:stale", "404"))
            try await client.send(RedisCommand("HSET", "bull:jobs:dn:stale", "name", "x", "data", "{}", "opts", "{}", "jid", "98"))
            let taker = try await queue.add("a", options: Self.keepLast("stale"))
            #expect(!taker.addWasDeduplicated)
            #expect(try await queue.getDeduplicationJobId("stale") == taker.id)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:dn:stale")).int == 0)
        }
    }
}
