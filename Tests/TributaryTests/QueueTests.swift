import Testing
@testable import Tributary

/// Adding jobs stores what BullMQ stores; reading them back; options are validated before anything is stored.
@Suite("Queue")
struct QueueTests {
    @Test("a plain job: counter id, BullMQ's hash fields, wait list, marker, events")
    func plainJob() async throws {
        try await withQueue("emails") { queue, client, _ in
            let job = try await queue.add("welcome", data: ["to": "ada@example.com", "ratio": 0.1])
            #expect(job.id == "1")
            let fields = try await hashFields(client, "bull:emails:1")
            #expect(Set(fields.keys) == ["name", "data", "opts", "timestamp", "delay", "priority"])
            #expect(fields["name"] == "welcome")
            #expect(fields["data"] == #"{"to":"ada@example.com","ratio":0.1}"#)
            #expect(try JSONValue.parse(fields["opts"]!) == ["attempts": 0, "delay": 0])
            #expect(fields["delay"] == "0" && fields["priority"] == "0")
            #expect(Int64(fields["timestamp"]!) == job.timestamp)
            #expect(try await client.send(RedisCommand("LRANGE", "bull:emails:wait", 0, -1)) == .array([.bulkString(Array("1".utf8))]))
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:emails:marker", "0")).string == "0")
            #expect(try await client.send(RedisCommand("HGET", "bull:emails:meta", "opts.maxLenEvents")).string == "10000")
            let events = try await client.send(RedisCommand("XRANGE", "bull:emails:events", "-", "+")).array ?? []
            let names = events.compactMap { $0.array?[1].array?[1].string }
            #expect(names == ["added", "waiting"])
            #expect(try await queue.getState("1") == .waiting)
            let loaded = try #require(try await queue.getJob("1"))
            #expect(loaded.name == "welcome" && loaded.data["ratio"] == 0.1 && loaded.problem == nil)
        }
    }

    @Test("FIFO by default, LIFO jumps the line")
    func order() async throws {
        try await withQueue("emails") { queue, client, _ in
            try await queue.add("a")
            try await queue.add("b")
            try await queue.add("urgent", options: .init(lifo: true))
            // Workers take from the right end of the wait list.
            let wait = try await client.send(RedisCommand("LRANGE", "bull:emails:wait", 0, -1)).array?.compactMap(\.string)
            #expect(wait == ["2", "1", "3"])
        }
    }

    @Test("a delayed job: delayed set scored readyAt*0x1000, marker 1 at readyAt, delayed event")
    func delayedJob() async throws {
        try await withQueue("emails") { queue, client, _ in
            let job = try await queue.add("later", options: .init(delay: .seconds(60), timestamp: 1_000_000))
            let score = try await client.send(RedisCommand("ZSCORE", "bull:emails:delayed", .string(job.id))).string
            #expect(score == String((1_000_000 + 60_000) * 0x1000))
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:emails:marker", "1")).string == "1060000")
            #expect(try await client.send(RedisCommand("EXISTS", "bull:emails:wait")) == .integer(0))
            let second = try await queue.add("same-ms", options: .init(delay: .seconds(60), timestamp: 1_000_000))
            let secondScore = try await client.send(RedisCommand("ZSCORE", "bull:emails:delayed", .string(second.id))).string
            #expect(secondScore == String((1_000_000 + 60_000) * 0x1000 + 1))
            #expect(try await queue.getState(job.id) == .delayed)
            #expect(try await hashFields(client, "bull:emails:\(job.id)")["delay"] == "60000")
        }
    }

    @Test("prioritized jobs: score priority*2^32 + counter, pc counter")
    func prioritizedJobs() async throws {
        try await withQueue("emails") { queue, client, _ in
            let first = try await queue.add("p", options: .init(priority: 5))
            let second = try await queue.add("p", options: .init(priority: 5))
            let firstScore = try await client.send(RedisCommand("ZSCORE", "bull:emails:prioritized", .string(first.id))).string
            let secondScore = try await client.send(RedisCommand("ZSCORE", "bull:emails:prioritized", .string(second.id))).string
            #expect(firstScore == String(5 * 4_294_967_296 + 1))
            #expect(secondScore == String(5 * 4_294_967_296 + 2))
            #expect(try await client.send(RedisCommand("GET", "bull:emails:pc")).string == "2")
            #expect(try await queue.getState(first.id) == .prioritized)
            let counts = try await queue.getJobCounts()
            #expect(counts.prioritized == 2 && counts.waiting == 0)
        }
    }

    @Test("a custom id that exists keeps the existing job and emits duplicated")
    func duplicateCustomId() async throws {
        try await withQueue("emails") { queue, client, _ in
            try await queue.add("first", data: ["v": 1], options: .init(jobId: "order-7"))
            let again = try await queue.add("second", data: ["v": 2], options: .init(jobId: "order-7"))
            #expect(again.id == "order-7")
            #expect(try await hashFields(client, "bull:emails:order-7")["data"] == #"{"v":1}"#)
            #expect(try await client.send(RedisCommand("LLEN", "bull:emails:wait")) == .integer(1))
            let events = try await client.send(RedisCommand("XRANGE", "bull:emails:events", "-", "+")).array ?? []
            #expect(events.last?.array?[1].array?[1].string == "duplicated")
            // The counter advances on every add, as in BullMQ.
            #expect(try await client.send(RedisCommand("GET", "bull:emails:id")).string == "2")
        }
    }

    @Test("invalid options are rejected naming the option, and nothing is stored", arguments: [
        (JobOptions(jobId: "a:b"), "jobId 'a:b' must not contain ':'"),
        (JobOptions(jobId: "42"), "must not be an integer"),
        (JobOptions(priority: 2_097_152), "priority must be between 0 and 2097151"),
        (JobOptions(delay: .milliseconds(-1)), "delay must not be negative"),
        (JobOptions(attempts: -1), "attempts must not be negative"),
        (JobOptions(backoff: .fixed(delay: .seconds(1), jitter: 2)), "backoff.jitter"),
        (JobOptions(removeOnComplete: .keepLast(-3)), "removeOnComplete count"),
        (JobOptions(timeout: .zero), "timeout must be positive"),
    ])
    func invalidOptions(options: JobOptions, fragment: String) async throws {
        try await withQueue("emails") { (queue: Queue, client: RedisClient, _: TestRedisServer) async throws in
            await #expect {
                try await queue.addBulk([JobRequest("fine"), JobRequest("bad", options: options)])
            } throws: { error in
                guard let error = error as? QueueError else { return false }
                return error.code == .invalidOption && error.message.contains(fragment) && error.message.contains("job 1 ('bad')")
            }
            #expect(try await client.send(RedisCommand("DBSIZE")) == .integer(0))
        }
    }

    @Test("addBulk stores all jobs atomically, in order")
    func addBulk() async throws {
        try await withQueue("emails") { queue, _, _ in
            let jobs = try await queue.addBulk((0..<100).map { JobRequest("n", data: ["i": .int(Int64($0))]) })
            #expect(jobs.map(\.id) == (1...100).map(String.init))
            let counts = try await queue.getJobCounts()
            #expect(counts.waiting == 100)
            #expect(try await queue.getJob("100")?.data["i"] == 99)
        }
    }

    @Test("options round-trip through the stored opts JSON")
    func optionsRoundTrip() async throws {
        try await withQueue("emails") { queue, _, _ in
            let options = JobOptions(
                jobId: "report-1", priority: 3, attempts: 5, backoff: .exponential(delay: .seconds(2), jitter: 0.5),
                removeOnComplete: .keepLast(10), removeOnFail: .keepFor(age: .seconds(3600), count: 100), timeout: .seconds(30))
            try await queue.add("report", options: options)
            let stored = try #require(try await queue.getJob("report-1"))
            #expect(stored.options == options)
            #expect(stored.options.storedJSON["backoff"] == ["type": "exponential", "delay": 2000, "jitter": 0.5])
            #expect(stored.options.storedJSON["removeOnFail"] == ["age": 3600, "count": 100])
        }
    }

    @Test("queue names with ':' are refused")
    func badQueueName() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            #expect(throws: QueueError.self) { try Queue("a:b", client: client) }
            await client.close()
        }
    }

    @Test("a job hash written by a careless producer loads with a problem instead of crashing")
    func malformedJob() async throws {
        try await withQueue("emails") { queue, client, _ in
            try await client.send(RedisCommand("HSET", "bull:emails:x1", "name", "broken", "data", "{not json", "timestamp", "5"))
            let job = try #require(try await queue.getJob("x1"))
            #expect(job.problem?.contains("not valid JSON") == true)
            try await client.send(RedisCommand("HSET", "bull:emails:x2", "timestamp", "5"))
            #expect(try await queue.getJob("x2")?.problem?.contains("no 'name' field") == true)
        }
    }
}
