import Testing
@testable import Tributary

/// Retention (`removeOnComplete` / `removeOnFail`): what is kept, as BullMQ reads the stored options, and what a
/// removed child leaves behind for its parents.
@Suite("Retention")
struct RetentionTests {
    @Test("stored {count: N} without age keeps the newest N, as BullMQ does; count 0 removes, a negative count keeps all")
    func storedCountWithoutAge() throws {
        func retention(_ text: String) throws -> JobOptions.Retention {
            JobOptions(stored: try JSONValue.parse("{\"removeOnComplete\": \(text)}")).removeOnComplete
        }
        #expect(try retention("{\"count\": 2}") == .keepLast(2))
        #expect(try retention("{\"count\": 0}") == .removeAll)
        #expect(try retention("{\"count\": -1}") == .keepAll)
        #expect(try retention("-1") == .keepAll)
        #expect(try retention("{\"age\": 60, \"count\": 3}") == .keepFor(age: .seconds(60), count: 3))
        #expect(try retention("{\"age\": 60, \"count\": -1}") == .keepFor(age: .seconds(60), count: nil))
        #expect(try retention("{}") == .keepAll)
        #expect(JobOptions(stored: try JSONValue.parse("{\"removeOnFail\": {\"count\": 1}}")).removeOnFail == .keepLast(1))
    }

    @Test("Python-written {count: 2} retention: a Tributary worker keeps only the newest two completed and failed jobs")
    func pythonWrittenCount() async throws {
        let peer = try PythonPeer.locate()
        try await withQueue("py", overTCP: true) { queue, client, server in
            let jobs = (0..<5).map { index in
                PeerJob("job\(index)", data: ["fail": .bool(index >= 3)],
                        opts: ["removeOnComplete": ["count": 2], "removeOnFail": ["count": 1]])
            }
            var ids: [String] = []
            for job in jobs { ids += try await peer.addJobs([job], redisURL: server.tcpURL, queue: "py") }
            try await withWorkers([try scriptedWorker("py", client: client, options: .init(concurrency: 1))]) { () async throws in
                #expect(try await eventually(.seconds(60)) {
                    let counts = try await queue.getJobCounts()
                    return counts.waiting == 0 && counts.active == 0 && counts.completed + counts.failed >= 3
                })
            }
            let counts = try await queue.getJobCounts()
            #expect(counts.completed == 2 && counts.failed == 1, "\(counts)")
            #expect(try await queue.getJob(ids[0]) == nil, "the oldest completed job is removed")
            #expect(try await queue.getJob(ids[3]) == nil, "the older failed job is removed")
            #expect(try await queue.getState(ids[2]) == .completed)
            #expect(try await queue.getState(ids[4]) == .failed)
        }
    }

    @Test("a child with BullMQ's default policy removed on failure releases its parent, which then runs")
    func removedFailedChildReleasesParent() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(FlowJob("parent", queue: "parents", children: [
                FlowJob("bad", queue: "kids", data: ["fail": true], options: .init(removeOnFail: .removeAll)),
            ]))
            let child = flow.children[0].job
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await parents.getState(flow.job.id) == .completed })
            }
            #expect(try await client.send(RedisCommand("EXISTS", .string(child.key))) == .integer(0))
            #expect(try await members(client, flow.job.key + ":dependencies").isEmpty)
        }
    }

    @Test("a failed child trimmed later by removeOnFail: N releases its parent")
    func trimmedFailedChildReleasesParent() async throws {
        try await withQueue("parents") { parents, client, _ in
            let kids = try Queue("kids", client: client)
            let flow = try await FlowProducer(client: client).add(FlowJob("parent", queue: "parents", children: [
                FlowJob("bad", queue: "kids", data: ["fail": true], options: .init(removeOnFail: .keepLast(1))),
            ]))
            let child = flow.children[0].job
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await eventually { try await kids.getState(child.id) == .failed })
                #expect(try await parents.getState(flow.job.id) == .waitingChildren, "BullMQ's default: the parent waits")
                // Another failure in the same queue pushes the child out of the kept one.
                _ = try await kids.add("other", data: ["fail": true], options: .init(removeOnFail: .keepLast(1)))
                #expect(try await eventually(.seconds(60)) { try await parents.getState(flow.job.id) == .completed })
            }
            #expect(try await client.send(RedisCommand("EXISTS", .string(child.key))) == .integer(0))
        }
    }

    @Test("a node that several dependents need (`parents` field), removed on failure, releases every dependent")
    func removedSharedNodeReleasesEveryParent() async throws {
        try await withQueue("dag") { queue, client, _ in
            let links = #"[{"id":"p1","queueKey":"bull:dag"},{"id":"p2","queueKey":"bull:dag"}]"#
            for parent in ["p1", "p2"] {
                try await client.send(RedisCommand("HSET", .string("bull:dag:\(parent)"), "name", .string(parent),
                                                   "data", "{}", "opts", "{}", "timestamp", "1"))
                try await client.send(RedisCommand("SADD", .string("bull:dag:\(parent):dependencies"), "bull:dag:shared"))
                try await client.send(RedisCommand("ZADD", "bull:dag:waiting-children", "1", .string(parent)))
            }
            try await client.send(RedisCommand("HSET", "bull:dag:shared", "name", "shared", "data", #"{"fail":true}"#,
                                               "opts", #"{"removeOnFail":true}"#, "timestamp", "1", "parents", .string(links)))
            try await client.send(RedisCommand("LPUSH", "bull:dag:wait", "shared"))
            try await withWorkers([try scriptedWorker("dag", client: client)]) { () async throws in
                #expect(try await eventually(.seconds(60)) {
                    let first = try await queue.getState("p1"), second = try await queue.getState("p2")
                    return first == .completed && second == .completed
                })
            }
            #expect(try await client.send(RedisCommand("EXISTS", "bull:dag:shared")) == .integer(0))
        }
    }
}
