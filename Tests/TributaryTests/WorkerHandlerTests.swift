import Synchronization
import Testing
@testable import Tributary

/// What a handler can do with its running job, and what a running worker looks like from outside.
@Suite("Worker handlers")
struct WorkerHandlerTests {
    @Test("a handler reports progress and writes log lines; both are stored, streamed and reported")
    func progressAndLogs() async throws {
        try await withQueue("handlers") { queue, client, _ in
            let worker = try Worker(queue: "handlers", client: client) { job in
                try await job.updateProgress(["percent": 50])
                try await job.log("halfway")
                try await job.log("done")
                return .null
            }
            let workerEvents = worker.events  // subscribed before the worker runs
            let progressSeen = Task { () -> JSONValue? in
                for await event in workerEvents { if case .progress(_, let value) = event { return value } }
                return nil
            }
            let runner = Task { try await worker.run() }
            let job = try await queue.add("report")
            #expect(try await eventually { try await queue.getState(job.id) == .completed })
            #expect(await progressSeen.value == ["percent": 50])
            await worker.close()
            try await runner.value
            #expect(try await queue.getJob(job.id)?.progress == ["percent": 50])
            let logs = try await queue.getJobLogs(job.id)
            #expect(logs.logs == ["halfway", "done"] && logs.count == 2)
            let events = try await client.send(RedisCommand("XRANGE", "bull:handlers:events", "-", "+")).array ?? []
            let progress = events.first { $0.array?[1].array?[1].string == "progress" }?.array?[1].array?.compactMap(\.string)
            #expect(progress == ["event", "progress", "jobId", job.id, "data", #"{"percent":50}"#])
        }
    }

    @Test("outside a handler, the running-job actions explain themselves")
    func actionsNeedAWorker() async throws {
        try await withQueue("handlers") { queue, _, _ in
            let job = try await queue.add("plain")
            let snapshot = try #require(try await queue.getJob(job.id))
            await #expect(throws: QueueError.self) { try await snapshot.updateProgress(1) }
        }
    }

    @Test("a handler can put its job back to delayed; no attempt is counted and it runs again later")
    func moveToDelayedFromHandler() async throws {
        try await withQueue("handlers") { queue, client, _ in
            let worker = try Worker(queue: "handlers", client: client) { job in
                if job.attemptsStarted == 1 { try await job.moveToDelayed(by: .milliseconds(300)) }
                return .string("second run")
            }
            let runner = Task { try await worker.run() }
            let job = try await queue.add("patient", options: .init(attempts: 1))
            #expect(try await eventually { try await queue.getState(job.id) == .completed })
            await worker.close()
            try await runner.value
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.returnValue == "second run")
            #expect(done.attemptsStarted == 2 && done.attemptsMade == 1)
            #expect(done.failedReason == nil)
        }
    }

    @Test("removeOnComplete by age: a job older than the age is removed when a later one finishes")
    func removalByAge() async throws {
        try await withQueue("handlers") { queue, client, _ in
            let worker = try Worker(queue: "handlers", client: client) { _ in .null }
            let runner = Task { try await worker.run() }
            let retention = JobOptions(removeOnComplete: .keepFor(age: .seconds(1)))
            let old = try await queue.add("old", options: retention)
            #expect(try await eventually { try await queue.getState(old.id) == .completed })
            try await Task.sleep(for: .milliseconds(1300))
            let fresh = try await queue.add("fresh", options: retention)
            #expect(try await eventually { try await queue.getState(fresh.id) == .completed })
            await worker.close()
            try await runner.value
            #expect(try await queue.getJob(old.id) == nil)
            #expect(try await queue.getJob(fresh.id) != nil)
        }
    }

    @Test("getWorkers lists a running worker by its name, and no longer once it is closed")
    func workersAreListed() async throws {
        try await withQueue("handlers") { queue, client, _ in
            let worker = try Worker(queue: "handlers", client: client, options: .init(name: "billing-1")) { _ in .null }
            let runner = Task { try await worker.run() }
            #expect(try await eventually { try await queue.getWorkers().contains { $0.name == "billing-1" } })
            await worker.close()
            try await runner.value
            #expect(try await eventually { try await queue.getWorkers().isEmpty })
        }
    }
}
