import Synchronization
import Testing
@testable import Tributary

/// Global concurrency and rate limits (the queue's meta fields), and the manual rate limit (limiter key).
@Suite("Global limits")
struct GlobalLimitsTests {
    private func running<T>(_ workers: [Worker], _ body: () async throws -> T) async throws -> T {
        try await whileRunning(workers, body)
    }

    @Test("set, get and remove write BullMQ's meta fields concurrency, max and duration; bad values are refused")
    func metaFields() async throws {
        try await withQueue { queue, client, _ in
            #expect(try await queue.getGlobalConcurrency() == nil)
            #expect(try await queue.getGlobalRateLimit() == nil)
            try await queue.setGlobalConcurrency(4)
            try await queue.setGlobalRateLimit(max: 10, duration: .seconds(2))
            let meta = try await hashFields(client, "bull:jobs:meta")
            #expect(meta["concurrency"] == "4" && meta["max"] == "10" && meta["duration"] == "2000")
            #expect(try await queue.getGlobalConcurrency() == 4)
            #expect(try await queue.getGlobalRateLimit() == RateLimit(max: 10, duration: .seconds(2)))
            let limits = try await queue.getLimits()
            #expect(limits.concurrency == 4 && limits.rateLimit == RateLimit(max: 10, duration: .seconds(2)))
            #expect(try await queue.removeGlobalConcurrency())
            #expect(try await queue.removeGlobalRateLimit())
            #expect(try await !queue.removeGlobalRateLimit())
            let after = try await hashFields(client, "bull:jobs:meta")
            #expect(after["concurrency"] == nil && after["max"] == nil && after["duration"] == nil)
            await #expect(throws: QueueError.self) { try await queue.setGlobalConcurrency(0) }
            await #expect(throws: QueueError.self) { try await queue.setGlobalRateLimit(max: 0, duration: .seconds(1)) }
        }
    }

    @Test("global concurrency 2: two workers of concurrency 10 never run more than 2 jobs at once")
    func globalConcurrency() async throws {
        try await withQueue { queue, client, _ in
            try await queue.setGlobalConcurrency(2)
            let running = Mutex((now: 0, peak: 0))
            let handler: Worker.Handler = { _ in
                running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                try await Task.sleep(for: .milliseconds(100))
                running.withLock { $0.now -= 1 }
                return .null
            }
            let options = WorkerOptions(concurrency: 10, drainDelay: .milliseconds(200))
            let workers = try (0..<2).map { _ in try Worker(queue: "jobs", client: client, options: options, handler: handler) }
            _ = try await queue.addBulk((0..<12).map { JobRequest("j\($0)") })
            try await self.running(workers) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getJobCounts().completed == 12 })
            }
            let peak = running.withLock { $0.peak }
            #expect(peak <= 2 && peak >= 1, "peak \(peak)")
        }
    }

    @Test("a global rate limit of 2 per second: 6 jobs need three windows, at most 4 taken in any 800 ms")
    func globalRateLimit() async throws {
        try await withQueue { queue, client, _ in
            try await queue.setGlobalRateLimit(max: 2, duration: .seconds(1))
            let worker = try Worker(queue: "jobs", client: client, options: .init(concurrency: 6)) { _ in .null }
            _ = try await queue.addBulk((0..<6).map { JobRequest("j\($0)") })
            try await running([worker]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getJobCounts().completed == 6 })
            }
            // When each job was taken (processedOn, set in the step that counts it against the window).
            let times = try await queue.getJobs([.completed]).compactMap(\.processedOn).sorted()
            #expect(times.count == 6)
            // Windows of 1 s with at most 2 takes each: 6 need three windows, so the last take is about 2 s after the
            // first (generous bound: 1.5 s); without the limit all six are taken within milliseconds.
            #expect(times[5] - times[0] >= 1500, "\(times)")
            // A span shorter than a window overlaps at most two windows: at most 4 takes in any 800 ms.
            for (index, start) in times.enumerated() {
                #expect(times[index...].prefix { $0 < start + 800 }.count <= 4, "\(times)")
            }
        }
    }

    @Test("rateLimit + RateLimitError: the job goes back to wait without using an attempt and runs after the hold")
    func manualRateLimit() async throws {
        try await withQueue { queue, client, _ in
            let calls = Counter()
            let worker = try Worker(queue: "jobs", client: client,
                                    options: .init(limiter: .init(max: 100, duration: .seconds(1)))) { job in
                if calls.increment() == 1 { try await job.rateLimitQueue(for: .milliseconds(1500)) }
                return "done"
            }
            let job = try await queue.add("call-api", options: .init(attempts: 1))
            let started = ContinuousClock.now
            try await running([worker]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .completed })
            }
            let elapsed = ContinuousClock.now - started
            #expect(calls.current == 2)
            #expect(elapsed >= .milliseconds(1400), "\(elapsed)")
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.attemptsMade == 1 && done.failedReason == nil)
            #expect(done.returnValue == "done")
            let events = try await DeduplicationTests.events(client)
            #expect(events.contains { $0["event"] == "waiting" && $0["prev"] == "active" && $0["jobId"] == job.id })
        }
    }

    @Test("after a RateLimitError every slot of the worker holds off, even without a limiter (BullMQ's limitUntil)")
    func handBackHoldsEverySlot() async throws {
        try await withQueue { queue, client, _ in
            let calls = Counter()
            let worker = try Worker(queue: "jobs", client: client, options: .init(concurrency: 2)) { job in
                if job.name == "a", calls.increment() == 1 {
                    // Due in 1 s, when the other slot is free and the hold has begun.
                    try await queue.add("b", options: .init(delay: .seconds(1)))
                    try await job.rateLimitQueue(for: .seconds(3))
                }
                return .null
            }
            let a = try await queue.add("a")
            try await running([worker]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getJobCounts().completed == 2 })
            }
            let jobs = try await queue.getJobs([.completed])
            let firstTake = try #require(try await queue.getJob(a.id)?.timestamp)
            let b = try #require(jobs.first { $0.name == "b" }?.processedOn)
            // Without the hold the free slot takes b about 1 s after a was added; with it, after 3 s.
            #expect(b - firstTake >= 2500, "b taken \(b - firstTake) ms after a was added")
        }
    }

    @Test("rateLimit sets the limiter key as BullMQ does; getRateLimitTtl and removeRateLimitKey read and end it")
    func limiterKey() async throws {
        try await withQueue { queue, client, _ in
            try await queue.rateLimit(.seconds(600))
            #expect(try await client.send(RedisCommand("GET", "bull:jobs:limiter")).string == "9007199254740991")
            let ttl = try #require(try await queue.getRateLimitTtl())
            #expect(ttl > .seconds(500) && ttl <= .seconds(600))
            #expect(try await queue.getLimits().rateLimitedFor != nil)
            #expect(try await queue.removeRateLimitKey())
            #expect(try await queue.getRateLimitTtl() == nil)
        }
    }
}
