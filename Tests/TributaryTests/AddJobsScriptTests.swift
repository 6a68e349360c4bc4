import Testing
@testable import Tributary

/// `addJobs.lua`, the one add path: a call with many jobs must store exactly what one call per job stores.
@Suite("addJobs script")
struct AddJobsScriptTests {
    /// The per-job add values (after the prefix) of a mix of jobs for queue `queue`: counter ids, LIFO, priorities,
    /// delays, a custom id twice, flow parents and children, a shared node with two dependents, extra fields,
    /// guarded adds with and without their guard, children of a missing parent, deduplicated and replacing adds.
    static func jobs(_ queue: String) -> [[RedisArgument]] {
        func job(_ id: String = "", _ name: String, delay: Int = 0, priority: Int = 0, push: String = "LPUSH",
                 parent: String = "", waits: Bool = false, extra: String = "", parents: [String] = [],
                 guardKey: String = "", dedup: String = "") -> [RedisArgument] {
            let parentJSON = parent.isEmpty ? "" : #"{"id":"\#(parent)","queueKey":"bull:\#(queue)"}"#
            let parentsJSON = parents.isEmpty ? "" :
                "[" + parents.map { #"{"id":"\#($0)","queueKey":"bull:\#(queue)","fpof":true}"# }.joined(separator: ",") + "]"
            return [.string(id), .string(name), 1_000_000, .string(#"{"n":"\#(name)"}"#), #"{"attempts":0,"delay":0}"#,
                    .integer(Int64(delay)), .integer(Int64(priority)), .string(push),
                    .string(parent.isEmpty ? "" : "bull:\(queue):\(parent)"), .string(parentJSON), .string(waits ? "1" : "0"),
                    .string(extra), .string(parentsJSON), .string(guardKey), .string(dedup)]
        }
        return [
            job("", "plain"), job("", "lifo", push: "RPUSH"), job("", "plain2"), job("", "high", priority: 5),
            job("", "low", priority: 3), job("", "later", delay: 60_000), job("", "later2", delay: 60_000),
            job("fixed", "custom"), job("fixed", "custom-again"), job("p", "parent", waits: true),
            job("", "child", parent: "p"), job("c2", "child2", push: "RPUSH", parent: "p"), job("", "orphan", parent: "nobody"),
            job("p2", "parent2", waits: true, extra: #"{"flowRun":"r1","flowNode":"p2"}"#),
            job("shared", "shared", parents: ["p", "p2"]), job("", "orphan2", parents: ["p", "nobody"]),
            job("g1", "guarded", parent: "later-parent", guardKey: "guard:ok"), job("g2", "unguarded", guardKey: "guard:missing"),
            job("", "deduped", dedup: #"{"id":"d"}"#), job("", "deduped-again", dedup: #"{"id":"d"}"#),
            job("", "replacing", delay: 60_000, dedup: #"{"id":"r","ttl":60000}"#),
            job("", "replaced", delay: 60_000, dedup: #"{"id":"r","ttl":60000,"replace":true}"#),
        ]
    }

    @Test("same replies, keys, hashes, lists, sets, sorted sets and events as one call per job", arguments: [false, true])
    func manyInOneCallSameAsOnePerCall(paused: Bool) async throws {
        try await withQueue("one") { _, client, _ in
            let redis = RedisInspector(client: client)
            if paused {
                for queue in ["one", "many"] { try await client.send(RedisCommand("HSET", .string("bull:\(queue):meta"), "paused", "1")) }
            }
            try await client.send(RedisCommand("SET", "guard:ok", "1"))
            let one = QueueKeys(queueName: "one"), many = QueueKeys(queueName: "many")
            var singleReplies: [RESPValue] = []
            for arguments in Self.jobs("one") {
                singleReplies.append(try await client.addOne(one, arguments: [.string(one.jobKeyPrefix)] + arguments))
            }
            let jobs = Self.jobs("many")
            let bulkReply = try await client.run(QueueScripts.addJobs.script, keys: QueueScripts.addJobs.keys(for: many),
                                                 arguments: [.string(many.jobKeyPrefix), .integer(Int64(jobs.count))] + jobs.flatMap { $0 })
            #expect(bulkReply == .array(singleReplies))
            #expect(singleReplies.filter { $0 == .integer(-5) }.count == 2 && singleReplies.contains(.integer(-8)))
            #expect(singleReplies.contains(.bulkString(Array("fixed".utf8))) && singleReplies.contains(.bulkString(Array("g1".utf8))))

            let oneKeys = try await redis.keys("bull:one:*")
            let manyKeys = try await redis.keys("bull:many:*")
            #expect(oneKeys.map { $0.replacingOccurrences(of: "bull:one:", with: "bull:many:") } == manyKeys)
            #expect(oneKeys.count > 15)
            for key in oneKeys {
                let other = key.replacingOccurrences(of: "bull:one:", with: "bull:many:")
                let type = try await client.send(RedisCommand("TYPE", .string(key))).string
                switch type {
                case "hash":
                    let mine = try await redis.hash(key).mapValues { $0.replacingOccurrences(of: "bull:one", with: "bull:many") }
                    #expect(mine == (try await redis.hash(other)), "hash \(key)")
                case "list": #expect(try await redis.list(key) == (try await redis.list(other)), "list \(key)")
                case "set":
                    let mine = Set(try await redis.members(key).map { $0.replacingOccurrences(of: "bull:one", with: "bull:many") })
                    #expect(mine == Set(try await redis.members(other)), "set \(key)")
                case "zset": #expect(try await redis.zset(key) == (try await redis.zset(other)), "zset \(key)")
                case "string": #expect(try await redis.string(key) == (try await redis.string(other)), "string \(key)")
                case "stream":
                    #expect(try await redis.stream(key).map(\.fields) == (try await redis.stream(other).map(\.fields)), "stream \(key)")
                default: Issue.record("unexpected key type \(type ?? "?") for \(key)")
                }
            }
        }
    }

    @Test("Queue.addBulk and FlowProducer store through addJobs in calls of at most 1000 jobs, in one transaction")
    func bulkAddsInCalls() async throws {
        try await withQueue("bulk") { queue, client, _ in
            try await client.send(RedisCommand("CONFIG", "RESETSTAT"))
            let jobs = try await queue.addBulk((0..<2_500).map { JobRequest("job", data: ["i": .int(Int64($0))]) })
            #expect(jobs.map(\.id) == (1...2_500).map(String.init))
            #expect(jobs[1_234].data == ["i": 1_234] && jobs[1_234].fields["data"] == #"{"i":1234}"#)
            #expect(try await client.send(RedisCommand("LLEN", "bull:bulk:wait")).int == 2_500)
            let stats = try await client.send(RedisCommand("INFO", "commandstats")).string ?? ""
            #expect(stats.contains("cmdstat_evalsha:calls=3,") && stats.contains("cmdstat_exec:calls=1,"))
            // The returned snapshots read as getJob reads the stored hash (with doubles, which take the parsing path).
            let mixed = try await queue.addBulk([
                JobRequest("plain", data: ["n": 1], options: .init(attempts: 3, backoff: .fixed(delay: .seconds(1)))),
                JobRequest("doubles", data: ["x": 1.0, "y": 0.25], options: .init(backoff: .exponential(delay: .seconds(1), jitter: 0.5))),
            ])
            for job in mixed {
                let stored = try #require(try await queue.getJob(job.id))
                #expect(job.name == stored.name && job.data == stored.data && job.options == stored.options)
                #expect(job.timestamp == stored.timestamp && job.attemptsMade == 0 && job.problem == nil)
                #expect(job.fields.allSatisfy { stored.fields[$0.key] == $0.value })
            }
            let flow = try await FlowProducer(client: client).add(FlowJob("parent", queue: "bulk", children: (0..<1_500).map {
                FlowJob("child", queue: $0 % 2 == 0 ? "bulk" : "other", data: ["i": .int(Int64($0))])
            }))
            #expect(flow.children.count == 1_500)
            let dependencies = try await client.send(RedisCommand("SCARD", .string("bull:bulk:\(flow.job.id):dependencies"))).int
            #expect(dependencies == 1_500)
            #expect(try await client.send(RedisCommand("LLEN", "bull:other:wait")).int == 750)
        }
    }
}
