import Testing
@testable import Tributary

/// `<prefix>:<queue>:meta` as BullMQ writes it, so that tools that find queues by scanning `<prefix>:*:meta` and
/// tell BullMQ queues from Bull ones by its `version` field (bull-board's CLI, Taskforce's connector) see every
/// queue Tributary touches.
@Suite("Queue meta")
struct QueueMetaTests {
    /// The queues a discovery tool finds: SCAN MATCH `bull:*:meta`, then the queue name between prefix and `:meta`,
    /// with the library named in `version` (before its ':').
    static func discovered(_ client: RedisClient) async throws -> [String: String] {
        var found: [String: String] = [:]
        var cursor = "0"
        repeat {
            let reply = try await client.send(RedisCommand("SCAN", .string(cursor), "MATCH", "bull:*:meta", "COUNT", "100"))
            cursor = reply.array?[0].string ?? "0"
            for key in (reply.array?[1].array ?? []).compactMap(\.string) {
                let name = String(key.dropFirst("bull:".count).dropLast(":meta".count))
                let version = try await client.send(RedisCommand("HGET", .string(key), "version")).string ?? ""
                found[name] = String(version.prefix { $0 != ":" })
            }
        } while cursor != "0"
        return found
    }

    @Test("a queue added to, a flow's queues and a worker's queue all have meta with opts.maxLenEvents and a BullMQ version")
    func writtenOnFirstUse() async throws {
        try await withQueue { queue, client, _ in
            try await queue.add("job")
            let meta = try await hashFields(client, "bull:jobs:meta")
            #expect(meta["opts.maxLenEvents"] == "10000")
            #expect(meta["version"] == "bullmq:5.0.0-tributary" && meta["version"] == Tributary.bullmqVersionField, "\(meta)")

            let flows = FlowProducer(client: client)
            _ = try await flows.add(FlowJob("parent", queue: "parents", children: [FlowJob("child", queue: "children")]))
            let worker = try Worker(queue: "idle", client: client) { _ in .null }
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await Self.discovered(client)["idle"] == "bullmq" })
            }
            #expect(try await Self.discovered(client) == ["jobs": "bullmq", "parents": "bullmq", "children": "bullmq", "idle": "bullmq"])
        }
    }

    @Test("a version another BullMQ client wrote is kept")
    func keepsAnotherVersion() async throws {
        try await withQueue { queue, client, _ in
            try await client.send(RedisCommand("HSET", "bull:jobs:meta", "version", "bullmq:5.61.0"))
            try await queue.add("job")
            #expect(try await hashFields(client, "bull:jobs:meta")["version"] == "bullmq:5.61.0")
        }
    }
}
