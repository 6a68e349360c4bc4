import Testing
@testable import Tributary

/// `Worker.events` costs nothing until someone reads it, and again once the reading task is cancelled.
@Suite("Worker events")
struct WorkerEventsTests {
    /// The next `.active` / `.completed` event of `events`, as "active <id>" / "completed <id>".
    private static func next(_ iterator: inout AsyncStream<WorkerEvent>.Iterator) async -> String? {
        while let event = await iterator.next() {
            switch event {
            case .active(let job): return "active \(job.id)"
            case .completed(let job, _): return "completed \(job.id)"
            default: continue
            }
        }
        return nil
    }

    @Test("events of jobs run before anyone read `events` are neither built nor buffered; a cancelled reader detaches")
    func unreadEventsAreNotKept() async throws {
        try await withQueue("unread") { queue, client, _ in
            let worker = try Worker(queue: "unread", client: client) { _ in "ok" }
            #expect(!worker.eventSink.isSubscribed)
            let runner = Task { try await worker.run() }
            let early = try await queue.addBulk((1...3).map { _ in JobRequest("early") })
            #expect(try await eventually(.seconds(60)) {
                try await queue.getJobCounts().completed == 3
            })
            #expect(!worker.eventSink.isSubscribed)

            // The first events a new reader sees are those of the job added after it subscribed.
            let stream = worker.events
            #expect(worker.eventSink.isSubscribed)
            let late = try await queue.add("late")
            var iterator = stream.makeAsyncIterator()
            #expect(await Self.next(&iterator) == "active \(late.id)")
            #expect(await Self.next(&iterator) == "completed \(late.id)")
            #expect(!early.map(\.id).contains(late.id))

            // Once the reading task is cancelled, nothing is produced any more; a new read starts a new stream.
            let reader = Task { () -> Int in
                var seen = 0
                for await _ in worker.events { seen += 1 }
                return seen
            }
            reader.cancel()
            _ = await reader.value
            #expect(try await eventually(.seconds(60)) { !worker.eventSink.isSubscribed })
            var fresh = worker.events.makeAsyncIterator()
            #expect(worker.eventSink.isSubscribed)
            let last = try await queue.add("last")
            #expect(await Self.next(&fresh) == "active \(last.id)")
            await worker.close()
            try await runner.value
        }
    }
}
