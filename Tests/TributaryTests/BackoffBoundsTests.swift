import Testing
@testable import Tributary

/// Delays and backoffs too large for the arithmetic: refused where options are checked, capped where they are
/// computed, and never fatal to a worker.
@Suite("Backoff and delay bounds")
struct BackoffBoundsTests {
    private let huge = Duration.milliseconds(9_000_000_000_000_000_000)

    @Test("validate() refuses a delay or backoff delay beyond ten years, naming the option")
    func validation() throws {
        #expect(throws: QueueError.self) { try JobOptions(delay: huge).validate() }
        #expect(throws: QueueError.self) { try JobOptions(backoff: .exponential(delay: huge)).validate() }
        #expect(throws: QueueError.self) { try JobOptions(backoff: .custom(type: "mine", delay: huge)).validate() }
        do {
            try JobOptions(backoff: .fixed(delay: JobOptions.maximumDelay + .milliseconds(1))).validate()
            Issue.record("expected a refusal")
        } catch let error as QueueError {
            #expect(error.message.contains("backoff.delay"))
        }
        try JobOptions(delay: JobOptions.maximumDelay, backoff: .fixed(delay: JobOptions.maximumDelay)).validate()
    }

    @Test("flow files refuse a delay or backoff delay beyond ten years, with the path")
    func flowFiles() {
        let problems = flowProblems(flowWithNodes(#"""
            "a": {"opts": {"delay": 9000000000000000000}},
            "b": {"opts": {"backoff": {"type": "exponential", "delay": 9000000000000000000}}},
            "c": {"opts": {"backoff": 9000000000000000000}}
            """#))
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("nodes.a.opts.delay") }, "\(problems)")
        #expect(problems.contains { $0.contains("nodes.b.opts.backoff.delay") }, "\(problems)")
        #expect(problems.contains { $0.contains("nodes.c.opts.backoff") }, "\(problems)")
    }

    @Test("computed backoffs saturate at the maximum: huge stored delays, many attempts, custom strategies")
    func saturation() {
        let job = Job(id: "1", queue: QueueKeys(queueName: "q"), fields: ["name": "n", "data": "{}", "opts": "{}"])
        let error = TestFailure("boom")
        let exponential = JobOptions.Backoff.exponential(delay: huge)
        #expect(exponential.delay(attemptsMade: 1, error: error, job: job, strategies: [:]) == JobOptions.maximumDelay)
        #expect(exponential.delay(attemptsMade: 60, error: error, job: job, strategies: [:]) == JobOptions.maximumDelay)
        let jittered = JobOptions.Backoff.exponential(delay: .seconds(10), jitter: 0.5)
        let value = jittered.delay(attemptsMade: 500, error: error, job: job, strategies: [:])!
        #expect(value <= JobOptions.maximumDelay && value >= JobOptions.maximumDelay / 2)
        let custom = JobOptions.Backoff.custom(type: "forever")
        let strategies: [String: WorkerOptions.BackoffStrategy] = ["forever": { _, _, _ in .seconds(Int64.max) }]
        #expect(custom.delay(attemptsMade: 1, error: error, job: job, strategies: strategies) == JobOptions.maximumDelay)
        #expect(Duration.seconds(Int64.max).milliseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).milliseconds == Int64.min)
    }

    @Test("a job stored by another producer with a huge backoff is delayed, capped; the worker lives on")
    func storedHugeBackoff() async throws {
        try await withQueue { queue, client, _ in
            try await client.send(RedisCommand("HSET", "bull:jobs:big", "name", "big", "data", "{}", "timestamp", "1",
                                               "opts", #"{"attempts":3,"backoff":{"type":"fixed","delay":9000000000000000000}}"#))
            try await client.send(RedisCommand("LPUSH", "bull:jobs:wait", "big"))
            let worker = try Worker(queue: "jobs", client: client) { job in
                if job.name == "big" { throw TestFailure("retry me") }
                return "ok"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await queue.getState("big") == .delayed })
                let after = try await queue.add("after")
                #expect(try await eventually { try await queue.getState(after.id) == .completed })
            }
            let score = try await client.send(RedisCommand("ZSCORE", "bull:jobs:delayed", "big")).string.flatMap(Double.init)
            let dueAt = (score ?? 0) / 4096
            let limit = Double(EpochClock.milliseconds() + JobOptions.maximumDelay.milliseconds)
            #expect(dueAt > Double(EpochClock.milliseconds()) && dueAt <= limit, "due at \(dueAt)")
        }
    }
}
