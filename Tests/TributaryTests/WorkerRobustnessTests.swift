import Testing
@testable import Tributary

/// Regressions from review: what a worker does when closing interrupts a job, or when Redis holds odd state.
@Suite("Worker robustness")
struct WorkerRobustnessTests {
    @Test("a job interrupted by close(timeout:) is not failed: no attempt counted, it stalls and runs again elsewhere")
    func interruptedJobIsNotFailed() async throws {
        try await withQueue { queue, client, _ in
            let first = try Worker(queue: "jobs", client: client, options: .init(lockDuration: .milliseconds(500), stalledInterval: .milliseconds(300))) { job in
                try await Task.sleep(for: .seconds(30))
                return "never"
            }
            let runner = Task { try await first.run() }
            let job = try await queue.add("long", options: .init(attempts: 1))
            #expect(try await eventually { try await queue.getState(job.id) == .active })
            await first.close(timeout: .milliseconds(200))
            try await runner.value
            #expect(try await queue.getState(job.id) == .active)
            #expect(try await queue.getJob(job.id)?.attemptsMade == 0)

            let second = try Worker(queue: "jobs", client: client, options: .init(stalledInterval: .milliseconds(300))) { _ in "second" }
            let secondRunner = Task { try await second.run() }
            #expect(try await eventually { try await queue.getState(job.id) == .completed })
            await second.close()
            try await secondRunner.value
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.returnValue == "second" && done.attemptsMade == 1 && done.attemptsStarted == 2)
        }
    }

    @Test("an id whose job hash was deleted is skipped, not resurrected as an empty failed job")
    func deletedHashIsSkipped() async throws {
        try await withQueue { queue, client, _ in
            try await client.send(RedisCommand("LPUSH", "bull:jobs:wait", "ghost"))
            let real = try await queue.add("real")
            let worker = try Worker(queue: "jobs", client: client) { _ in "ok" }
            let runner = Task { try await worker.run() }
            #expect(try await eventually { try await queue.getState(real.id) == .completed })
            await worker.close()
            try await runner.value
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:ghost")) == .integer(0))
            let counts = try await queue.getJobCounts()
            #expect(counts.failed == 0 && counts.active == 0 && counts.waiting == 0)
        }
    }

    @Test("a rate-limit counter left without expiry does not block the queue forever")
    func limiterWithoutExpiry() async throws {
        try await withQueue { queue, client, _ in
            try await client.send(RedisCommand("SET", "bull:jobs:limiter", "100"))
            let worker = try Worker(queue: "jobs", client: client, options: .init(limiter: .init(max: 2, duration: .seconds(1)))) { _ in .null }
            let runner = Task { try await worker.run() }
            let job = try await queue.add("limited")
            #expect(try await eventually { try await queue.getState(job.id) == .completed })
            await worker.close()
            try await runner.value
        }
    }

    @Test("a malformed stored stack trace does not lose the job when it fails")
    func malformedStacktrace() async throws {
        try await withQueue { queue, client, _ in
            let job = try await queue.add("broken")
            try await client.send(RedisCommand("HSET", .string(queue.keys.job(job.id)), "stacktrace", "{not json"))
            let worker = try Worker(queue: "jobs", client: client) { _ in throw TestFailure("boom") }
            let runner = Task { try await worker.run() }
            #expect(try await eventually { try await queue.getState(job.id) == .failed })
            await worker.close()
            try await runner.value
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.stacktrace.count == 1 && failed.stacktrace[0].contains("boom"))
        }
    }
}
