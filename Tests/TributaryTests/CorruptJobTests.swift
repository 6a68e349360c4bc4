import Synchronization
import Testing
@testable import Tributary

/// Job hashes written wrong by another producer (issue 11, item 7): each such job ends in `failed` with a reason
/// naming the field, its handler never runs, no script leaves it in no list, and the worker goes on.
@Suite("Corrupt job fields")
struct CorruptJobTests {
    /// Writes a job hash as a foreign producer might, `fields` on top of a minimal valid job, and pushes it to wait.
    private func writeJob(_ client: RedisClient, _ id: String, _ fields: [String: String], push: Bool = true) async throws {
        var all = ["name": "n", "data": "{}", "opts": "{}", "timestamp": "1"]
        for (field, value) in fields { all[field] = value }
        try await client.send(RedisCommand("HSET", arguments: [.string("bull:q:\(id)")] + all.flatMap { [RedisArgument.string($0.key), .string($0.value)] }))
        if push { try await client.send(RedisCommand("LPUSH", "bull:q:wait", .string(id))) }
    }

    /// Runs a worker on "q" until job `id` has failed and a good job added afterwards has completed; returns the
    /// failed job and how many times the handler ran for it.
    private func failedAfterWorker(_ queue: Queue, _ client: RedisClient, _ id: String) async throws -> (Job, Int) {
        let runs = Mutex(0)
        let worker = try Worker(queue: "q", client: client) { job in
            if job.id == id { runs.withLock { $0 += 1 } }
            return "ok"
        }
        try await withWorkers([worker]) { () async throws in
            #expect(try await eventually(.seconds(60)) { try await queue.getState(id) == .failed })
            let good = try await queue.add("good")
            #expect(try await eventually(.seconds(60)) { try await queue.getState(good.id) == .completed },
                    "the worker goes on after a corrupt job")
        }
        let counts = try await queue.getJobCounts()
        #expect(counts.active == 0 && counts.waiting == 0, "\(counts)")
        return (try #require(try await queue.getJob(id)), runs.withLock { $0 })
    }

    @Test("atm that is not an integer: failed, naming 'atm', handler not run")
    func attemptsMade() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["atm": "x"])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            #expect(job.failedReason?.contains("'atm'") == true, "\(job.failedReason ?? "nil")")
            #expect(runs == 0)
        }
    }

    @Test("ats that is not an integer: failed at once, naming 'ats', not cycled through the stalled check")
    func attemptsStarted() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["ats": "x"])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            #expect(job.failedReason?.contains("'ats'") == true, "\(job.failedReason ?? "nil")")
            #expect(runs == 0)
        }
    }

    @Test("parent that is not JSON: failed, naming 'parent'")
    func parentNotJSON() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["parentKey": "bull:q:p", "parent": "{not json"])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            #expect(job.failedReason?.contains("'parent'") == true, "\(job.failedReason ?? "nil")")
            #expect(runs == 0)
        }
    }

    @Test("parents that is not an array of links: failed, naming 'parents'")
    func parentsNotLinks() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["parents": #"[{"id": 5}]"#])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            #expect(job.failedReason?.contains("'parents'") == true, "\(job.failedReason ?? "nil")")
            #expect(runs == 0)
        }
    }

    @Test("wrong-typed stored options (attempts: \"three\"): failed, naming the option as flow files do")
    func wrongTypedOptions() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["opts": #"{"attempts": "three", "removeOnFail": "yes"}"#])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            let reason = job.failedReason ?? ""
            #expect(reason.contains("opts.attempts must be an integer, got 'three'"), "\(reason)")
            #expect(reason.contains("opts.removeOnFail"), "\(reason)")
            #expect(runs == 0)
        }
    }

    @Test("stc that is not an integer on a stalled job: the check goes on past it; the job then fails naming 'stc'")
    func stalledCount() async throws {
        try await withQueue("q") { queue, client, _ in
            // Two jobs a dead worker left active without locks; the bad one first in the stalled set's order.
            try await writeJob(client, "bad", ["stc": "x"], push: false)
            try await writeJob(client, "fine", [:], push: false)
            try await client.send(RedisCommand("RPUSH", "bull:q:active", "bad", "fine"))
            for _ in 0..<2 {
                try await client.send(RedisCommand("DEL", "bull:q:stalled-check"))
                _ = try await client.run(
                    QueueScripts.moveStalledJobsToWait.script, keys: QueueScripts.moveStalledJobsToWait.keys(for: queue.keys),
                    arguments: [.string(queue.keys.jobKeyPrefix), .integer(EpochClock.milliseconds()), 1, 30_000])
            }
            #expect(Set(try await client.send(RedisCommand("LRANGE", "bull:q:wait", "0", "-1")).array?.compactMap(\.string) ?? [])
                    == ["bad", "fine"])
            let (job, runs) = try await failedAfterWorker(queue, client, "bad")
            #expect(job.failedReason?.contains("'stc'") == true, "\(job.failedReason ?? "nil")")
            #expect(runs == 0)
            #expect(try await queue.getState("fine") == .completed)
        }
    }

    @Test("moveToFinished on its own: a bad atm makes a completion a failure naming 'atm', kept in failed")
    func finishScriptAlone() async throws {
        try await withQueue("q") { queue, client, _ in
            try await writeJob(client, "bad", ["atm": "x"], push: false)
            try await client.send(RedisCommand("RPUSH", "bull:q:active", "bad"))
            let script = QueueScripts.moveToFinished
            let reply = try await client.run(script.script, keys: script.keys(for: queue.keys), arguments: [
                .string(queue.keys.jobKeyPrefix), "bad", .integer(EpochClock.milliseconds()), "completed", "\"done\"", "0",
                0, 0, "0", 30_000, 0, 0, "", 1, "",
            ])
            #expect(reply == .integer(0))
            #expect(try await queue.getState("bad") == .failed)
            let fields = try await hashFields(client, "bull:q:bad")
            #expect(fields["failedReason"] == "job field 'atm' is not an integer: 'x'")
            #expect(fields["atm"] == "1")
        }
    }
}
