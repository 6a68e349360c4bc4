import MetricsTestKit
import Testing
@testable import Tributary

/// The swift-metrics a worker records, each test with its own `TestMetrics` factory (no global bootstrap, so tests
/// running in parallel cannot see each other's numbers).
@Suite("Worker instruments (swift-metrics)")
struct WorkerInstrumentsTests {
    @Test("completed, failed and retried jobs are counted by queue and name; duration and wait are timed")
    func countsAndTimers() async throws {
        try await withQueue { queue, client, _ in
            let metrics = TestMetrics()
            let worker = try Worker(queue: "jobs", client: client,
                                    options: .init(concurrency: 2, metricsFactory: metrics)) { job in
                switch job.name {
                case "slow": try await Task.sleep(for: .milliseconds(50))
                case "bad": throw TestFailure("bad")
                case "flaky" where job.attemptsMade == 0: throw TestFailure("first attempt")
                default: break
                }
                return .null
            }
            try await queue.addBulk([
                JobRequest("slow"), JobRequest("slow"), JobRequest("slow"), JobRequest("bad"),
                JobRequest("flaky", options: .init(attempts: 2)),
                JobRequest("late", options: .init(delay: .milliseconds(300))),
            ])
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually {
                    let counts = try await queue.getJobCounts()
                    return counts.completed == 5 && counts.failed == 1
                })
            }
            func dimensions(_ name: String) -> [(String, String)] { [("queue", "jobs"), ("name", name)] }
            #expect(try metrics.expectCounter("tributary_jobs_completed", dimensions("slow")).totalValue == 3)
            #expect(try metrics.expectCounter("tributary_jobs_completed", dimensions("flaky")).totalValue == 1)
            #expect(try metrics.expectCounter("tributary_jobs_completed", dimensions("late")).totalValue == 1)
            #expect(try metrics.expectCounter("tributary_jobs_failed", dimensions("bad")).totalValue == 1)
            #expect(try metrics.expectCounter("tributary_jobs_failed", dimensions("flaky")).totalValue == 0)
            #expect(try metrics.expectCounter("tributary_job_attempts_failed", dimensions("flaky")).totalValue == 1)
            let durations = try metrics.expectTimer("tributary_job_duration", dimensions("slow")).values
            #expect(durations.count == 3 && durations.allSatisfy { $0 >= 50_000_000 }, "\(durations)")
            #expect(try metrics.expectTimer("tributary_job_duration", dimensions("flaky")).values.count == 2)
            // Wait runs from the add (the job's timestamp) to the start: at least the delay for a delayed job.
            let late = try metrics.expectTimer("tributary_job_wait", dimensions("late")).values
            #expect(late.count == 1 && late[0] >= 300_000_000, "\(late)")
            #expect(try metrics.expectTimer("tributary_job_wait", dimensions("slow")).values.count == 3)
        }
    }

    @Test("handles are made once per name; past the limit, new names share the name _other")
    func boundedNames() throws {
        let metrics = TestMetrics()
        let instruments = WorkerInstruments(queue: "q", factory: metrics)
        let first = instruments.handles(for: "n0")
        first.completed.increment()
        instruments.handles(for: "n0").completed.increment()
        #expect(try metrics.expectCounter("tributary_jobs_completed", [("queue", "q"), ("name", "n0")]).totalValue == 2)
        for index in 1..<WorkerInstruments.maximumNames { _ = instruments.handles(for: "n\(index)") }
        instruments.handles(for: "one-more").completed.increment()
        instruments.handles(for: "and-another").completed.increment()
        #expect(try metrics.expectCounter("tributary_jobs_completed", [("queue", "q"), ("name", "_other")]).totalValue == 2)
        #expect(throws: (any Error).self) {
            try metrics.expectCounter("tributary_jobs_completed", [("queue", "q"), ("name", "one-more")])
        }
    }

    @Test("bullmq_job_count{queue,state} is set from each queue's job counts, every BullMQ state")
    func jobCountGauges() async throws {
        try await withQueue { queue, client, _ in
            let other = try Queue("other", client: client)
            try await queue.addBulk([JobRequest("a"), JobRequest("b"), JobRequest("c", options: .init(delay: .seconds(60)))])
            try await other.add("p", options: .init(priority: 3))
            let metrics = TestMetrics()
            let read = try await JobCountGauges.record([queue, other], factory: metrics)
            #expect(read["jobs"]?.waiting == 2)
            func gauge(_ queue: String, _ state: String) throws -> Double? {
                try metrics.expectGauge("bullmq_job_count", [("queue", queue), ("state", state)]).lastValue
            }
            #expect(try gauge("jobs", "waiting") == 2 && gauge("jobs", "delayed") == 1 && gauge("jobs", "active") == 0)
            #expect(try gauge("other", "prioritized") == 1 && gauge("other", "waiting") == 0)
            for state in JobCountGauges.states { #expect(try gauge("jobs", state) != nil, "\(state)") }
            try await queue.pause()
            try await JobCountGauges.record([queue], factory: metrics)
            #expect(try gauge("jobs", "paused") == 2 && gauge("jobs", "waiting") == 0)
        }
    }
}
