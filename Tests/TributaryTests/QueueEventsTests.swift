import Logging
import ServiceLifecycle
import Testing
@testable import Tributary

/// The events stream as an AsyncSequence, waiting for jobs, worker events, and shutdown through ServiceLifecycle.
@Suite("Queue events and lifecycle")
struct QueueEventsTests {
    @Test("QueueEvents yields BullMQ's events in order, with their fields")
    func eventSequence() async throws {
        try await withQueue("events") { queue, client, _ in
            let collector = Task {
                var seen: [QueueEvent] = []
                for try await event in QueueEvents(queue: "events", client: client, startingAfter: "0") {
                    seen.append(event)
                    if event.name == "completed" { break }
                }
                return seen
            }
            let worker = try Worker(queue: "events", client: client) { job in ["echo": job.data] }
            let runner = Task { try await worker.run() }
            let job = try await queue.add("ping", data: ["n": 1])
            let seen = try await collector.value
            await worker.close()
            try await runner.value
            #expect(seen.map(\.name) == ["added", "waiting", "active", "completed"])
            #expect(seen.allSatisfy { $0.jobId == job.id })
            #expect(seen[0].fields["name"] == "ping")
            #expect(seen[2].previous == "waiting")
            #expect(seen[3].returnValue == ["echo": ["n": 1]] && seen[3].previous == "active")
        }
    }

    @Test("waitUntilFinished returns the value, or throws the failure reason")
    func waitUntilFinished() async throws {
        try await withQueue("events") { queue, client, _ in
            let worker = try Worker(queue: "events", client: client) { job in
                try await Task.sleep(for: .milliseconds(100))
                if job.name == "bad" { throw UnrecoverableError("no good") }
                return .string("done \(job.id)")
            }
            let runner = Task { try await worker.run() }
            let good = try await queue.add("good")
            let bad = try await queue.add("bad")
            #expect(try await queue.waitUntilFinished(good.id) == .string("done \(good.id)"))
            await #expect {
                try await queue.waitUntilFinished(bad.id)
            } throws: { error in
                (error as? JobFailedError)?.reason == "no good"
            }
            // Already finished: answered from the job itself.
            #expect(try await queue.waitUntilFinished(good.id) == .string("done \(good.id)"))
            await #expect(throws: QueueError.self) { try await queue.waitUntilFinished("nope") }
            await worker.close()
            try await runner.value
        }
    }

    @Test("the worker reports active, completed and failed events to the program")
    func workerEvents() async throws {
        try await withQueue("events") { queue, client, _ in
            let worker = try Worker(queue: "events", client: client) { job in
                if job.name == "bad" { throw TestFailure("broken") }
                return 7
            }
            let runner = Task { try await worker.run() }
            try await queue.add("good")
            try await queue.add("bad")
            var names: [String] = []
            for await event in worker.events {
                switch event {
                case .active(let job): names.append("active \(job.name)")
                case .completed(let job, let value): names.append("completed \(job.name) \(value)")
                case .failed(let job, let reason, let willRetry): names.append("failed \(job.name) \(reason) \(willRetry)")
                default: break
                }
                if names.count == 4 { break }
            }
            #expect(names == ["active good", "completed good 7", "active bad", "failed bad broken false"])
            await worker.close()
            try await runner.value
        }
    }

    @Test("in a ServiceGroup, a graceful shutdown lets the running job finish, then the worker stops")
    func serviceGroupShutdown() async throws {
        try await withQueue("events") { queue, client, _ in
            let worker = try Worker(queue: "events", client: client) { _ in
                try await Task.sleep(for: .milliseconds(500))
                return "finished"
            }
            let group = ServiceGroup(configuration: .init(services: [worker], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            let job = try await queue.add("slow")
            while try await queue.getState(job.id) != .active { try await Task.sleep(for: .milliseconds(20)) }
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try await queue.getState(job.id) == .completed)
            #expect(try await queue.getJob(job.id)?.returnValue == "finished")
        }
    }
}
