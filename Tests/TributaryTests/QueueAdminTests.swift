import Testing
@testable import Tributary

/// Helpers shared by the queue administration and job action tests.
enum AdminTestSupport {
    /// A fresh server, a client, and a queue named `jobs`.
    static func withQueue(_ body: (Queue, RedisClient, TestRedisServer) async throws -> Void) async throws {
        try await TributaryTests.withQueue("jobs", body)
    }

    static func hash(_ client: RedisClient, _ key: String) async throws -> [String: String] {
        try await hashFields(client, key)
    }

    static func eventually(_ timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        try await TributaryTests.eventually(timeout, condition)
    }

    static func keys(_ client: RedisClient, _ pattern: String) async throws -> Set<String> {
        Set(try await client.send(RedisCommand("KEYS", .string(pattern))).array?.compactMap(\.string) ?? [])
    }

    static func list(_ client: RedisClient, _ key: String) async throws -> [String] {
        try await client.send(RedisCommand("LRANGE", .string(key), 0, -1)).array?.compactMap(\.string) ?? []
    }

    static func zset(_ client: RedisClient, _ key: String) async throws -> [String] {
        try await client.send(RedisCommand("ZRANGE", .string(key), 0, -1)).array?.compactMap(\.string) ?? []
    }

    /// The events stream as `[[field: value]]`, oldest first.
    static func events(_ client: RedisClient, _ queue: String = "jobs") async throws -> [[String: String]] {
        let entries = try await client.send(RedisCommand("XRANGE", .string("bull:\(queue):events"), "-", "+")).array ?? []
        return entries.map { entry in
            let flat = entry.array?[1].array?.compactMap(\.string) ?? []
            return Dictionary(stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) }) { a, _ in a }
        }
    }

    /// Moves a waiting job to completed or failed by hand, as a worker's moveToFinished would leave it.
    static func finish(_ client: RedisClient, _ id: String, failed: Bool, at finishedOn: Int64, queue: String = "jobs") async throws {
        let key = "bull:\(queue):\(id)"
        try await client.send(RedisCommand("LREM", .string("bull:\(queue):wait"), 0, .string(id)))
        try await client.send(RedisCommand("ZADD", .string("bull:\(queue):\(failed ? "failed" : "completed")"),
                                           .integer(finishedOn), .string(id)))
        try await client.send(RedisCommand(
            "HSET", .string(key), "finishedOn", .integer(finishedOn), "processedOn", .integer(finishedOn - 5), "atm", 1,
            "ats", 1, .string(failed ? "failedReason" : "returnvalue"), .string(failed ? "boom" : "42")))
    }

    /// Adds a job as a child of `parentKey` (`bull:<queue>:<id>`), parking the parent in its waiting-children set.
    static func addChild(_ queue: Queue, _ client: RedisClient, name: String, parentKey: String) async throws -> String {
        let parentId = String(parentKey.split(separator: ":").last!)
        let parentQueue = parentKey.split(separator: ":").dropLast().joined(separator: ":")
        try await client.send(RedisCommand("LREM", .string(parentQueue + ":wait"), 0, .string(parentId)))
        try await client.send(RedisCommand("ZADD", .string(parentQueue + ":waiting-children"), 1, .string(parentId)))
        let parentKeys = QueueKeys(prefix: String(parentQueue.split(separator: ":")[0]),
                                   queueName: String(parentQueue.split(separator: ":")[1]))
        let arguments = Queue.addArguments(JobRequest(name), keys: queue.keys, timestamp: EpochClock.milliseconds(),
                                           parents: [(parentId, parentKeys)])
        let reply = try await client.addOne(queue.keys, arguments: arguments)
        return try #require(reply.string)
    }

    static func throwsQueueError(_ code: QueueError.Code, containing fragments: [String],
                                 _ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return false
        } catch let error as QueueError {
            return error.code == code && fragments.allSatisfy { error.message.contains($0) }
        } catch {
            return false
        }
    }
}

private typealias S = AdminTestSupport

/// Pause/resume, drain, clean, obliterate, bulk retry/promote and listing, against a real redis-server.
@Suite("Queue administration")
struct QueueAdminTests {
    @Test("pause stores meta.paused, drops the marker and stops workers; resume wakes them at once")
    func pauseAndResume() async throws {
        try await S.withQueue { queue, client, _ in
            try await queue.pause()
            #expect(try await queue.isPaused())
            #expect(try await client.send(RedisCommand("HGET", "bull:jobs:meta", "paused")).string == "1")
            let job = try await queue.add("while-paused")
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:marker")) == .integer(0))
            let counts = try await queue.getJobCounts()
            #expect(counts.paused == 1 && counts.waiting == 0)

            let worker = try Worker(queue: "jobs", client: client, options: .init(drainDelay: .seconds(5))) { _ in "ok" }
            let runner = Task { try await worker.run() }
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await queue.getState(job.id) == .waiting)

            try await queue.resume()
            #expect(try await !queue.isPaused())
            // The worker blocks on the marker for up to 5 s; resume's marker must wake it well before that.
            let started = ContinuousClock.now
            #expect(try await S.eventually(.seconds(60)) { try await queue.getState(job.id) == .completed })
            #expect(ContinuousClock.now - started < .seconds(3))
            await worker.close(timeout: .seconds(5))
            try await runner.value

            let names = try await S.events(client).compactMap { $0["event"] }
            #expect(names.contains("paused") && names.contains("resumed"))
            let paused = try #require(try await S.events(client).first { $0["event"] == "paused" })
            #expect(paused["jobId"] == nil)
        }
    }

    @Test("resume sets the ready marker only when jobs wait, and moves BullMQ v5's paused list to wait")
    func resumeMarkerAndLegacyList() async throws {
        try await S.withQueue { queue, client, _ in
            try await queue.pause()
            try await queue.resume()
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:marker", "0")).isNull)

            try await queue.add("fresh")
            try await client.send(RedisCommand("HSET", "bull:jobs:old1", "name", "legacy", "data", "{}", "timestamp", 1))
            try await client.send(RedisCommand("HSET", "bull:jobs:old2", "name", "legacy", "data", "{}", "timestamp", 2))
            try await client.send(RedisCommand("LPUSH", "bull:jobs:paused", "old1", "old2"))
            try await queue.pause()
            try await queue.resume()
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:paused")) == .integer(0))
            // Workers pop from the right: the legacy jobs, oldest first, then the fresh one.
            #expect(try await S.list(client, "bull:jobs:wait") == ["1", "old2", "old1"])
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:marker", "0")).string == "0")
        }
    }

    @Test("drain deletes waiting and prioritized jobs (delayed only when asked), never active or finished ones")
    func drain() async throws {
        try await S.withQueue { queue, client, _ in
            let waiting = try await queue.add("w")
            let prioritized = try await queue.add("p", options: .init(priority: 3))
            let delayed = try await queue.add("d", options: .init(delay: .seconds(3600)))
            let done = try await queue.add("c")
            try await S.finish(client, done.id, failed: false, at: EpochClock.milliseconds())
            try await client.send(RedisCommand("LPUSH", "bull:jobs:active", "a1"))
            try await client.send(RedisCommand("HSET", "bull:jobs:a1", "name", "active", "data", "{}"))
            try await queue.addJobLog(waiting.id, "a line")

            #expect(try await queue.drain() == 2)
            #expect(try await queue.getJob(waiting.id) == nil)
            #expect(try await queue.getJob(prioritized.id) == nil)
            #expect(try await client.send(RedisCommand("EXISTS", .string("bull:jobs:\(waiting.id):logs"))) == .integer(0))
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:pc")) == .integer(0))
            #expect(try await queue.getState(delayed.id) == .delayed)
            #expect(try await queue.getState(done.id) == .completed)
            #expect(try await queue.getJob("a1") != nil)
            #expect(try await S.list(client, "bull:jobs:active") == ["a1"])

            #expect(try await queue.drain(delayed: true) == 1)
            #expect(try await queue.getJob(delayed.id) == nil)
            let counts = try await queue.getJobCounts()
            #expect(counts.delayed == 0 && counts.completed == 1 && counts.active == 1)
        }
    }

    @Test("drain releases a parent in another queue when its last child goes")
    func drainReleasesParent() async throws {
        try await S.withQueue { queue, client, _ in
            let parents = try Queue("parents", client: client)
            let parent = try await parents.add("parent")
            _ = try await S.addChild(queue, client, name: "child", parentKey: parent.key)
            #expect(try await parents.getState(parent.id) == .waitingChildren)
            try await queue.drain()
            #expect(try await parents.getState(parent.id) == .waiting)
            #expect(try await client.send(RedisCommand("SCARD", .string(parent.key + ":dependencies"))) == .integer(0))
            let last = try #require(try await S.events(client, "parents").last)
            #expect(last["event"] == "waiting" && last["jobId"] == parent.id && last["prev"] == "waiting-children")
        }
    }

    @Test("clean deletes finished jobs older than the grace period, oldest first, up to the limit, and emits cleaned")
    func cleanFinished() async throws {
        try await S.withQueue { queue, client, _ in
            let now = EpochClock.milliseconds()
            let jobs = try await queue.addBulk((0..<5).map { JobRequest("j\($0)") })
            for (index, job) in jobs.enumerated() {
                // Jobs 0-2 finished two hours ago (0 oldest), 3-4 a minute ago.
                let finishedOn = index < 3 ? now - 7_200_000 + Int64(index) : now - 60_000
                try await S.finish(client, job.id, failed: false, at: finishedOn)
            }
            try await queue.addJobLog(jobs[0].id, "old line")
            #expect(try await queue.clean(grace: .seconds(3600), limit: 2, state: .completed) == ["1", "2"])
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:1", "bull:jobs:1:logs")) == .integer(0))
            #expect(try await queue.clean(grace: .seconds(3600), state: .completed) == ["3"])
            #expect(try await S.zset(client, "bull:jobs:completed") == ["4", "5"])
            #expect(try await queue.clean(grace: .seconds(3600), state: .failed) == [])
            let cleaned = try await S.events(client).filter { $0["event"] == "cleaned" }.map { $0["count"] }
            #expect(cleaned == ["2", "1", "0"])
            await #expect(throws: QueueError.self) { try await queue.clean(grace: .zero, state: .waitingChildren) }
        }
    }

    @Test("clean of waiting, delayed, prioritized and active jobs uses their timestamps and spares locked jobs")
    func cleanOtherStates() async throws {
        try await S.withQueue { queue, client, _ in
            let old = EpochClock.milliseconds() - 7_200_000
            let oldWaiting = try await queue.add("old", options: .init(timestamp: old))
            let newWaiting = try await queue.add("new")
            let oldDelayed = try await queue.add("d", options: .init(delay: .seconds(60), timestamp: old))
            let oldPrioritized = try await queue.add("p", options: .init(priority: 2, timestamp: old))
            #expect(try await queue.clean(grace: .seconds(3600), state: .waiting) == [oldWaiting.id])
            #expect(try await S.list(client, "bull:jobs:wait") == [newWaiting.id])
            #expect(try await queue.clean(grace: .seconds(3600), state: .delayed) == [oldDelayed.id])
            #expect(try await queue.clean(grace: .seconds(3600), state: .prioritized) == [oldPrioritized.id])

            for id in ["x1", "x2"] {
                try await client.send(RedisCommand("HSET", .string("bull:jobs:\(id)"), "name", "a", "data", "{}",
                                                   "timestamp", .integer(old), "processedOn", .integer(old)))
                try await client.send(RedisCommand("LPUSH", "bull:jobs:active", .string(id)))
            }
            try await client.send(RedisCommand("SET", "bull:jobs:x1:lock", "worker-token", "PX", 60_000))
            #expect(try await queue.clean(grace: .seconds(3600), state: .active) == ["x2"])
            #expect(try await S.list(client, "bull:jobs:active") == ["x1"])
        }
    }

    @Test("obliterate deletes every key of the queue, in many SCAN steps, and nothing of queues with similar names")
    func obliterate() async throws {
        try await S.withQueue { queue, client, _ in
            try await queue.addBulk((0..<1500).map { JobRequest("n", data: ["i": .int(Int64($0))]) })
            try await queue.addJobLog("1", "log")
            try await queue.pause()
            // Neighbours: a longer name, a glob-looking name, another prefix.
            let jobs2 = try Queue("jobs2", client: client)
            let globby = try Queue("j?bs", client: client)
            let otherPrefix = try Queue("jobs", client: client, prefix: "other")
            for neighbour in [jobs2, globby, otherPrefix] { try await neighbour.add("keep") }
            let all = try await S.keys(client, "*")
            let neighbourKeys = all.filter { !$0.hasPrefix("bull:jobs:") }
            #expect(all.count > 1500 && neighbourKeys.count >= 3 * 5)

            try await queue.obliterate()
            #expect(try await S.keys(client, "*") == neighbourKeys)
            for neighbour in [jobs2, globby, otherPrefix] {
                #expect(try await neighbour.getJobCounts().waiting == 1)
            }

            // A glob character in the name matches only itself: "bull:j?bs:*" must not take "bull:jobs2:…" or jXbs.
            let jXbs = try Queue("jXbs", client: client)
            try await jXbs.add("keep")
            try await globby.obliterate()
            #expect(try await S.keys(client, "bull:j\\?bs:*").isEmpty)
            #expect(try await jXbs.getJob("1") != nil)
            #expect(try await jobs2.getJob("1") != nil)
            #expect(try await otherPrefix.getJob("1") != nil)
        }
    }

    @Test("obliterate refuses while jobs are active unless forced, and detaches children from parents elsewhere")
    func obliterateActive() async throws {
        try await S.withQueue { queue, client, _ in
            let parents = try Queue("parents", client: client)
            let parent = try await parents.add("parent")
            _ = try await S.addChild(queue, client, name: "child", parentKey: parent.key)
            try await queue.add("runs")
            try await client.send(RedisCommand("RPOPLPUSH", "bull:jobs:wait", "bull:jobs:active"))
            let before = try await client.send(RedisCommand("DBSIZE")).int
            #expect(await S.throwsQueueError(.activeJobs, containing: ["'jobs'", "1 job(s) are active", "force"]) {
                try await queue.obliterate()
            })
            #expect(try await client.send(RedisCommand("DBSIZE")).int == before)
            #expect(try await !queue.isPaused())

            try await queue.obliterate(force: true)
            #expect(try await S.keys(client, "bull:jobs:*").isEmpty)
            #expect(try await parents.getState(parent.id) == .waiting)
            #expect(try await parents.getJob(parent.id) != nil)
        }
    }

    @Test("retryJobs moves every failed job back to wait in batches, clearing what BullMQ clears")
    func retryJobs() async throws {
        try await S.withQueue { queue, client, _ in
            let jobs = try await queue.addBulk((0..<5).map { JobRequest("fails", data: ["i": .int(Int64($0))]) })
            let prioritized = try await queue.add("p", options: .init(priority: 4))
            let worker = try Worker(queue: "jobs", client: client) { _ in throw UnrecoverableError("nope") }
            let runner = Task { try await worker.run() }
            #expect(try await S.eventually { try await queue.getJobCounts().failed == 6 })
            await worker.close(timeout: .seconds(5))
            try await runner.value
            let completed = try await queue.add("done")
            try await S.finish(client, completed.id, failed: false, at: EpochClock.milliseconds())

            #expect(try await queue.retryJobs(state: .failed, count: 2) == 6)
            let counts = try await queue.getJobCounts()
            #expect(counts.failed == 0 && counts.waiting == 5 && counts.prioritized == 1 && counts.completed == 1)
            #expect(try await queue.getState(prioritized.id) == .prioritized)
            let fields = try await S.hash(client, "bull:jobs:\(jobs[0].id)")
            #expect(fields["finishedOn"] == nil && fields["processedOn"] == nil && fields["failedReason"] == nil)
            #expect(fields["atm"] == "1" && fields["stacktrace"] != nil)
            let waiting = try await S.events(client).filter { $0["event"] == "waiting" && $0["prev"] == "failed" }
            #expect(waiting.count == 6)
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:marker", "0")).string == "0")

            #expect(try await queue.retryJobs(state: .completed) == 1)
            let retried = try await S.hash(client, "bull:jobs:\(completed.id)")
            #expect(retried["returnvalue"] == nil && retried["finishedOn"] == nil)
            #expect(try await queue.getState(completed.id) == .waiting)
            await #expect(throws: QueueError.self) { try await queue.retryJobs(state: .active) }
        }
    }

    @Test("promoteJobs makes every delayed job ready with delay 0")
    func promoteJobs() async throws {
        try await S.withQueue { queue, client, _ in
            let plain = try await queue.addBulk((0..<3).map { _ in JobRequest("later", options: .init(delay: .seconds(3600))) })
            let prioritized = try await queue.add("p", options: .init(delay: .seconds(3600), priority: 7))
            #expect(try await queue.promoteJobs(count: 2) == 4)
            #expect(try await S.list(client, "bull:jobs:wait") == plain.map(\.id).reversed())
            #expect(try await queue.getState(prioritized.id) == .prioritized)
            #expect(try await S.hash(client, prioritized.key)["delay"] == "0")
            let promoted = try await S.events(client).filter { $0["event"] == "waiting" && $0["prev"] == "delayed" }
            #expect(promoted.count == 4)
            #expect(try await queue.getJobCounts().delayed == 0)
        }
    }

    @Test("getJobs: lists newest first by default, oldest first ascending, ranges per state, states in order")
    func getJobs() async throws {
        try await S.withQueue { queue, client, _ in
            try await queue.addBulk((1...4).map { JobRequest("w\($0)") })  // ids 1-4, wait = [4,3,2,1]
            for (id, at) in [("1", Int64(1000)), ("2", 3000), ("3", 2000)] {
                try await S.finish(client, id, failed: false, at: at)
            }
            try await client.send(RedisCommand("HSET", "bull:jobs:legacy", "name", "legacy", "data", "{}"))
            try await client.send(RedisCommand("LPUSH", "bull:jobs:paused", "legacy"))

            #expect(try await queue.getJobs([.completed]).map(\.id) == ["2", "3", "1"])
            #expect(try await queue.getJobs([.completed], ascending: true).map(\.id) == ["1", "3", "2"])
            #expect(try await queue.getJobs([.completed], start: 0, end: 1).map(\.id) == ["2", "3"])
            try await queue.addBulk((5...7).map { JobRequest("w\($0)") })  // wait = [7,6,5,4]
            #expect(try await queue.getJobs([.waiting]).map(\.id) == ["7", "6", "5", "4", "legacy"])
            #expect(try await queue.getJobs([.waiting], start: 0, end: 1, ascending: true).map(\.id) == ["4", "5", "legacy"])
            #expect(try await queue.getJobs([.waiting], start: 0, end: 1).map(\.id) == ["7", "6", "legacy"])
            let mixed = try await queue.getJobs([.completed, .waiting, .completed], start: 0, end: 0)
            #expect(mixed.map(\.id) == ["2", "7", "legacy"])
            #expect(mixed.first?.name == "w2" && mixed.first?.returnValue == 42)
            #expect(try await queue.getJobs([]).count == 8)
        }
    }

    @Test("getWaitingChildren reads the waiting-children set, oldest first")
    func waitingChildren() async throws {
        try await S.withQueue { queue, client, _ in
            #expect(try await queue.getWaitingChildren().isEmpty)
            for (id, score) in [("p2", 20), ("p1", 10)] {
                try await client.send(RedisCommand("HSET", .string("bull:jobs:\(id)"), "name", "parent", "data", "{}"))
                try await client.send(RedisCommand("ZADD", "bull:jobs:waiting-children", .integer(Int64(score)), .string(id)))
            }
            #expect(try await queue.getWaitingChildren().map(\.id) == ["p1", "p2"])
            #expect(try await queue.getWaitingChildren(start: 1).map(\.id) == ["p2"])
        }
    }

    @Test("getWorkers finds connections named as BullMQ names worker connections, and only those")
    func getWorkers() async throws {
        try await S.withQueue { queue, client, server in
            #expect(queue.keys.workerClientName() == "bull:am9icw==")
            #expect(queue.keys.workerClientName(workerName: "w1") == "bull:am9icw==:w:w1")
            #expect(QueueKeys.base64(Array("emails".utf8)) == "ZW1haWxz" && QueueKeys.base64([0xFF, 0x01]) == "/wE=")
            var connections: [RedisClient] = []
            for name in ["bull:am9icw==", "bull:am9icw==:w:w1", "bull:jobs:w:py", "bull:am9icw==2", "bull:am9icw==:qe",
                         "bull:jobs2"] {
                var configuration = try RedisConfiguration(url: server.unixURL)
                configuration.clientName = name
                connections.append(try await RedisClient.connect(configuration))
            }
            let workers = try await queue.getWorkers()
            #expect(Set(workers.map(\.clientName)) == ["bull:am9icw==", "bull:am9icw==:w:w1", "bull:jobs:w:py"])
            #expect(Set(workers.map { $0.name ?? "-" }) == ["-", "w1", "py"])
            #expect(workers.allSatisfy { !$0.address.isEmpty && $0.fields["id"] != nil && $0.age >= .zero })
            for connection in connections { await connection.close() }
        }
    }
}
