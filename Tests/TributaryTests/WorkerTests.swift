import Synchronization
import Testing
@testable import Tributary

/// A worker against a real redis-server: what it stores, how it retries, fails, waits and stops.
@Suite("Worker")
struct WorkerTests {
    /// Runs `worker` while `body` runs, then closes it.
    private func running<T>(_ worker: Worker, _ body: () async throws -> T) async throws -> T {
        try await whileRunning([worker], closeTimeout: .seconds(5), body)
    }

    @Test("an idle worker's fetch waits behind its BZPOPMIN on one connection: a job added meanwhile comes back when the block ends, stamped with Redis's clock")
    func fetchQueuedBehindTheBlock() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in .null }
            let fetch = QueueScripts.moveToActive
            // Loads the script (an empty queue: nothing taken).
            _ = try await client.run(fetch.script, keys: fetch.keys(for: queue.keys), arguments: worker.fetchArguments(token: "t0"))
            let blocked = Task {
                try await client.sendBlocking([
                    RedisCommand("BZPOPMIN", .string(queue.keys.key(.marker)), .double(60)),
                    fetch.script.command(keys: fetch.keys(for: queue.keys), arguments: worker.fetchArguments(token: "t1", serverTime: true)),
                ])
            }
            #expect(try await eventually {
                let info = try await client.send(RedisCommand("INFO", "clients")).string ?? ""
                return info.contains("blocked_clients:1")
            })
            // Long enough that the time the fetch was sent and the time it ran differ.
            try await Task.sleep(for: .milliseconds(300))
            let addedAt = EpochClock.milliseconds()
            let job = try await queue.add("late")
            let replies = try await blocked.value
            #expect(replies.count == 2 && replies[0].array?.count == 3)
            guard case .job(let taken) = try worker.decodeFetch(replies[1], token: "t1") else {
                Issue.record("the queued fetch took nothing: \(replies)")
                return
            }
            #expect(taken.id == job.id)
            #expect(try await queue.getState(job.id) == .active)
            #expect(Int64(taken.fields["processedOn"] ?? "") ?? 0 >= addedAt)
        }
    }

    @Test("a job runs once; its hash gets returnvalue, finishedOn, atm and ats, as BullMQ stores them")
    func completesJobs() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { job in
                ["doubled": .int((job.data["n"]?.intValue ?? 0) * 2)]
            }
            let job = try await queue.add("double", data: ["n": 21])
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .completed })
            }
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.returnValue == ["doubled": 42])
            #expect(done.fields["returnvalue"] == #"{"doubled":42}"#)
            #expect(done.attemptsMade == 1 && done.attemptsStarted == 1)
            #expect(done.finishedOn != nil && done.processedOn != nil)
            let counts = try await queue.getJobCounts()
            #expect(counts.completed == 1 && counts.active == 0 && counts.waiting == 0)
            let events = try await client.send(RedisCommand("XRANGE", "bull:jobs:events", "-", "+")).array ?? []
            let names = events.compactMap { $0.array?[1].array?[1].string }
            // drained: the finish step found nothing left to take.
            #expect(names == ["added", "waiting", "active", "completed", "drained"])
        }
    }

    @Test("concurrency N runs N jobs at once, never more")
    func concurrency() async throws {
        try await withQueue { queue, client, _ in
            let running = Mutex((now: 0, peak: 0))
            let worker = try Worker(queue: "jobs", client: client, options: .init(concurrency: 4)) { _ in
                running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                try await Task.sleep(for: .milliseconds(150))
                running.withLock { $0.now -= 1 }
                return .null
            }
            try await queue.addBulk((0..<12).map { _ in JobRequest("slow") })
            try await self.running(worker) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == 12 })
            }
            #expect(running.withLock { $0.peak } == 4)
        }
    }

    @Test("a failing job is retried until its attempts run out; each failure is recorded")
    func retries() async throws {
        try await withQueue { queue, client, _ in
            let calls = Mutex(0)
            let worker = try Worker(queue: "jobs", client: client) { _ in
                let call = calls.withLock { $0 += 1; return $0 }
                if call < 3 { throw TestFailure("flaky \(call)") }
                return "ok"
            }
            let job = try await queue.add("flaky", options: .init(attempts: 3))
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .completed })
            }
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.attemptsMade == 3 && done.attemptsStarted == 3)
            #expect(done.stacktrace.count == 2 && done.stacktrace[1].contains("flaky 2"))
            #expect(done.failedReason == "flaky 2")
        }
    }

    @Test("attempts exhausted: failed with the last reason, retries-exhausted emitted")
    func exhausted() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in throw TestFailure("always broken") }
            let job = try await queue.add("doomed", options: .init(attempts: 2))
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.failedReason == "always broken" && failed.attemptsMade == 2)
            let events = try await client.send(RedisCommand("XRANGE", "bull:jobs:events", "-", "+")).array ?? []
            #expect(events.contains { $0.array?[1].array?[1].string == "retries-exhausted" })
            let failedEvent = events.first { $0.array?[1].array?[1].string == "failed" }?.array?[1].array?.compactMap(\.string)
            #expect(failedEvent == ["event", "failed", "jobId", job.id, "failedReason", "always broken", "prev", "active"])
        }
    }

    @Test("a fixed backoff waits in the delayed set between attempts")
    func fixedBackoff() async throws {
        try await withQueue { queue, client, _ in
            let starts = Mutex<[ContinuousClock.Instant]>([])
            let worker = try Worker(queue: "jobs", client: client) { _ in
                let count = starts.withLock { $0.append(.now); return $0.count }
                if count == 1 { throw TestFailure("first try fails") }
                return .null
            }
            let job = try await queue.add("later", options: .init(attempts: 2, backoff: .fixed(delay: .milliseconds(400))))
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .completed })
            }
            let times = starts.withLock { $0 }
            #expect(times.count == 2)
            #expect(times[1] - times[0] >= .milliseconds(390))
            let events = try await client.send(RedisCommand("XRANGE", "bull:jobs:events", "-", "+")).array ?? []
            #expect(events.contains { $0.array?[1].array?[1].string == "delayed" })
        }
    }

    @Test("backoff formulas: fixed, exponential 2^(n-1)·d, jitter within bounds, custom strategies")
    func backoffFormulas() throws {
        let job = Job(id: "1", queue: QueueKeys(queueName: "q"), fields: [:])
        let error = TestFailure("x")
        let exponential = JobOptions.Backoff.exponential(delay: .milliseconds(100))
        #expect((1...4).map { exponential.delay(attemptsMade: $0, error: error, job: job, strategies: [:]) }
            == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(JobOptions.Backoff.fixed(delay: .seconds(1)).delay(attemptsMade: 5, error: error, job: job, strategies: [:]) == .seconds(1))
        for _ in 0..<50 {
            let jittered = try #require(JobOptions.Backoff.fixed(delay: .milliseconds(1000), jitter: 0.5)
                .delay(attemptsMade: 1, error: error, job: job, strategies: [:]))
            #expect(jittered >= .milliseconds(500) && jittered <= .milliseconds(1000))
        }
        let custom = JobOptions.Backoff.custom(type: "linear")
        #expect(custom.delay(attemptsMade: 3, error: error, job: job, strategies: ["linear": { n, _, _ in .seconds(n) }]) == .seconds(3))
    }

    @Test("UnrecoverableError fails the job at once, skipping attempts left")
    func unrecoverable() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in throw UnrecoverableError("card declined") }
            let job = try await queue.add("charge", options: .init(attempts: 5))
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.attemptsMade == 1 && failed.failedReason == "card declined")
        }
    }

    @Test("a job past its timeout is cancelled and fails with a timeout reason; the worker goes on")
    func timeout() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { job in
                if job.name == "hang" { try await Task.sleep(for: .seconds(30)) }
                return "done"
            }
            let hung = try await queue.add("hang", options: .init(timeout: .milliseconds(200)))
            let next = try await queue.add("quick")
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(next.id) == .completed })
                #expect(try await eventually { try await queue.getState(hung.id) == .failed })
            }
            #expect(try await queue.getJob(hung.id)?.failedReason?.contains("timed out after") == true)
        }
    }

    @Test("a job with data that is not JSON fails with a clear reason, and the worker lives on")
    func badPayload() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in "fine" }
            // A foreign producer's mistake, written by hand.
            try await client.send(RedisCommand("HSET", "bull:jobs:bad-1", "name", "oops", "data", "{broken", "opts", "{}", "timestamp", "1"))
            try await client.send(RedisCommand("LPUSH", "bull:jobs:wait", "bad-1"))
            try await client.send(RedisCommand("HSET", "bull:jobs:bad-2", "timestamp", "1"))
            try await client.send(RedisCommand("LPUSH", "bull:jobs:wait", "bad-2"))
            let good = try await queue.add("good")
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(good.id) == .completed })
                #expect(try await eventually { try await queue.getJobCounts().failed == 2 })
            }
            #expect(try await queue.getJob("bad-1")?.failedReason?.contains("data is not valid JSON") == true)
            #expect(try await queue.getJob("bad-2")?.failedReason?.contains("no 'name' field") == true)
        }
    }

    @Test("order: LIFO first, then FIFO, then priorities from 1 up")
    func order() async throws {
        try await withQueue { queue, client, _ in
            let seen = Mutex<[String]>([])
            try await queue.add("p3", options: .init(priority: 3))
            try await queue.add("fifo-1")
            try await queue.add("p1", options: .init(priority: 1))
            try await queue.add("fifo-2")
            try await queue.add("lifo", options: .init(lifo: true))
            try await queue.add("p2", options: .init(priority: 2))
            let worker = try Worker(queue: "jobs", client: client) { job in
                seen.withLock { $0.append(job.name) }
                return .null
            }
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == 6 })
            }
            #expect(seen.withLock { $0 } == ["lifo", "fifo-1", "fifo-2", "p1", "p2", "p3"])
        }
    }

    @Test("a delayed job starts once due, not before, while the worker sits idle")
    func delayedStartsOnTime() async throws {
        try await withQueue { queue, client, _ in
            // Without the marker the worker would only look again after drainDelay (30 s).
            let worker = try Worker(queue: "jobs", client: client, options: .init(drainDelay: .seconds(30))) { _ in .null }
            try await running(worker) { () async throws in
                try await Task.sleep(for: .milliseconds(100))  // the worker is blocked on the marker now
                let job = try await queue.add("later", options: .init(delay: .milliseconds(600)))
                #expect(try await eventually { try await queue.getState(job.id) == .completed })
                let done = try #require(try await queue.getJob(job.id))
                let waited = (done.processedOn ?? 0) - done.timestamp
                // Without the marker it would wait about 30 s; 20 s leaves room for a starved machine (10.4 s seen
                // at load 9) while still telling the two apart.
                #expect(waited >= 600 && waited < 20_000, "waited \(waited) ms")
            }
        }
    }

    @Test("a new job wakes an idle worker at once")
    func wakesOnAdd() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client, options: .init(drainDelay: .seconds(30))) { _ in .null }
            try await running(worker) { () async throws in
                try await Task.sleep(for: .milliseconds(200))
                let job = try await queue.add("now")
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .completed })
                let done = try #require(try await queue.getJob(job.id))
                // Well below drainDelay (30 s): the add woke the blocked worker (20 s leaves room for a starved machine).
                #expect((done.processedOn ?? 0) - done.timestamp < 20_000)
            }
        }
    }

    @Test("removeOnComplete keeps the newest N; removeAll deletes the job")
    func autoRemoval() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in .null }
            try await queue.addBulk((0..<5).map { _ in JobRequest("kept", options: .init(removeOnComplete: .keepLast(2))) })
            let gone = try await queue.add("gone", options: .init(removeOnComplete: .removeAll))
            try await running(worker) { () async throws in
                #expect(try await eventually {
                    let counts = try await queue.getJobCounts()
                    return counts.active == 0 && counts.waiting == 0
                })
            }
            #expect(try await queue.getJobCounts().completed == 2)
            #expect(try await queue.getJob("1") == nil)
            #expect(try await queue.getJob(gone.id) == nil)
            #expect(try await client.send(RedisCommand("ZRANGE", "bull:jobs:completed", 0, -1)).array?.count == 2)
        }
    }

    @Test("close() waits for the running job to finish")
    func gracefulClose() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in
                try await Task.sleep(for: .milliseconds(400))
                return "finished"
            }
            let job = try await queue.add("slow")
            let runner = Task { try await worker.run() }
            #expect(try await eventually { try await queue.getState(job.id) == .active })
            await worker.close(timeout: .seconds(5))
            try await runner.value
            #expect(try await queue.getState(job.id) == .completed)
        }
    }

    @Test("the rate limiter spaces jobs: 6 jobs at 2 per second take at least two windows")
    func rateLimit() async throws {
        try await withQueue { queue, client, _ in
            // Start times from Redis's clock, which is the clock the limiter's window runs on.
            let starts = Mutex<[Int64]>([])
            let options = WorkerOptions(concurrency: 5, limiter: .init(max: 2, duration: .seconds(1)))
            let worker = try Worker(queue: "jobs", client: client, options: options) { _ in
                let time = try await client.send(RedisCommand("TIME")).array?.compactMap(\.int) ?? []
                starts.withLock { $0.append(Int64(time[0]) * 1000 + Int64(time[1]) / 1000) }
                return .null
            }
            try await queue.addBulk((0..<6).map { _ in JobRequest("limited") })
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == 6 })
            }
            let times = starts.withLock { $0.sorted() }
            // Takes land in three windows (t, t+1 s, t+2 s); without a limiter all six start within milliseconds.
            #expect(times.count == 6 && times[5] - times[0] >= 1500, "\(times)")
        }
    }

    @Test("a paused worker finishes its running job, then takes nothing until resumed")
    func pauseAndResume() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in
                try await Task.sleep(for: .milliseconds(200))
                return .null
            }
            try await running(worker) { () async throws in
                let first = try await queue.add("first")
                #expect(try await eventually { try await queue.getState(first.id) == .active })
                await worker.pause()
                #expect(worker.isPaused)
                #expect(try await queue.getState(first.id) == .completed)
                let second = try await queue.add("second")
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await queue.getState(second.id) == .waiting)
                worker.resume()
                #expect(try await eventually { try await queue.getState(second.id) == .completed })
            }
        }
    }

    @Test("a job whose lock is taken away is not completed by the worker that lost it; the worker reports it and goes on")
    func lockLoss() async throws {
        try await withQueue { queue, client, _ in
            // A 2 s lock (renewed every second) cannot expire by itself on a loaded machine while "after" runs.
            let worker = try Worker(queue: "jobs", client: client, options: .init(lockDuration: .seconds(2))) { job in
                if job.name == "victim" { try await Task.sleep(for: .seconds(3)) }
                return "done"
            }
            let events = worker.events  // subscribed before the worker runs
            let lost = Task { () -> Bool in
                for await event in events {
                    if case .lockLost(let id) = event, id == "1" { return true }
                }
                return false
            }
            try await running(worker) { () async throws in
                let victim = try await queue.add("victim")
                #expect(try await eventually { try await queue.getState(victim.id) == .active })
                // Another worker took over the job (as after a stall): its lock now holds a foreign token.
                try await client.send(RedisCommand("SET", .string(queue.keys.job(victim.id) + ":lock"), "someone-else", "PX", 60_000))
                #expect(await lost.value)
                let after = try await queue.add("after")
                #expect(try await eventually { try await queue.getState(after.id) == .completed })
                #expect(try await queue.getState(victim.id) == .active)
                #expect(try await queue.getJob(victim.id)?.returnValue == nil)
            }
        }
    }

    @Test("a job whose worker vanished is found stalled and run again; beyond maxStalledCount it fails")
    func stalledJobs() async throws {
        try await withQueue { queue, client, _ in
            let job = try await queue.add("orphan")
            let twice = try await queue.add("orphan-twice")
            // A worker that takes both jobs with short locks and then disappears without finishing them.
            for id in [job.id, twice.id] {
                let reply = try await client.run(QueueScripts.moveToActive.script, keys: QueueScripts.moveToActive.keys(for: queue.keys),
                    arguments: [.string(queue.keys.jobKeyPrefix), .integer(EpochClock.milliseconds()), .string("ghost:\(id)"),
                                .integer(100), 0, 0, ""])
                #expect(reply.array?[1].string == id)
            }
            // `orphan-twice` already stalled once before.
            try await client.send(RedisCommand("HSET", .string(queue.keys.job(twice.id)), "stc", "1"))
            let worker = try Worker(queue: "jobs", client: client, options: .init(stalledInterval: .milliseconds(300))) { _ in "recovered" }
            try await running(worker) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .completed })
                #expect(try await eventually { try await queue.getState(twice.id) == .failed })
            }
            #expect(try await queue.getJob(job.id)?.returnValue == "recovered")
            #expect(try await queue.getJob(twice.id)?.failedReason == "job stalled more than allowable limit")
            let events = try await client.send(RedisCommand("XRANGE", "bull:jobs:events", "-", "+")).array ?? []
            #expect(events.filter { $0.array?[1].array?[1].string == "stalled" }.count == 2)
        }
    }
}

/// An error a test handler throws.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
