import Synchronization
import Testing
@testable import Tributary

/// Dynamic children (BullMQ's step-job pattern): a running job adds children to itself, waits for them in
/// waiting-children, and runs again when they are done.
@Suite("Flow dynamic children")
struct FlowDynamicChildrenTests {
    /// A worker on `kids` returning `["n": data.n * 10]`.
    private func kidsWorker(_ client: RedisClient) throws -> Worker {
        try Worker(queue: "kids", client: client, options: .init(concurrency: 2)) { job in
            ["n": .int((job.data["n"]?.intValue ?? 0) * 10)]
        }
    }

    @Test("step 1 adds children and waits; step 2 reads their values and completes; no attempt is counted for waiting")
    func stepPattern() async throws {
        try await withQueue("orders") { orders, client, _ in
            let runs = Mutex<[Int64]>([])
            let parentWorker = try Worker(queue: "orders", client: client) { job in
                let step = job.data["step"]?.intValue ?? 1
                runs.withLock { $0.append(step) }
                if step == 1 {
                    try await job.addChildren((1...3).map { JobRequest("pack", data: ["n": .int($0)]) }, queue: "kids")
                    try await orders.updateJobData(job.id, data: ["step": 2])
                    try await job.moveToWaitingChildren()
                }
                let values = try await job.childrenValues()
                return ["sum": .int(values.values.compactMap { $0["n"]?.intValue }.reduce(0, +)), "children": .int(Int64(values.count))]
            }
            let parentRunner = Task { try await parentWorker.run() }
            let order = try await orders.add("order", data: ["step": 1])
            #expect(try await eventually(.seconds(60)) { try await orders.getState(order.id) == .waitingChildren })
            let waiting = try #require(try await orders.getJob(order.id))
            #expect(waiting.data == ["step": 2])
            #expect(try await waiting.dependencyCounts(client: client) == DependencyCounts(unprocessed: 3))
            #expect(try await client.send(RedisCommand("EXISTS", .string(order.key + ":lock"))) == .integer(0))
            #expect(try await orders.getJobCounts().active == 0)

            // The children run only now, so the parent surely waited in waiting-children.
            let kids = try kidsWorker(client)
            let kidsRunner = Task { try await kids.run() }
            #expect(try await eventually(.seconds(60)) { try await orders.getState(order.id) == .completed })
            await kids.close()
            await parentWorker.close()
            try await kidsRunner.value
            try await parentRunner.value

            let done = try #require(try await orders.getJob(order.id))
            #expect(done.returnValue == ["sum": 60, "children": 3])
            #expect(runs.withLock { $0 } == [1, 2])
            #expect(done.attemptsMade == 1 && done.attemptsStarted == 2)
            let events = try await RedisInspector(client: client).stream("bull:orders:events").map(\.fields)
            #expect(events.contains(["event", "waiting-children", "jobId", order.id, "prev", "active"]))
            #expect(events.contains(["event", "waiting", "jobId", order.id, "prev", "waiting-children"]))
            let children = try await Queue("kids", client: client).getJobCounts()
            #expect(children.completed == 3)
        }
    }

    @Test("children that completed while the parent ran are recorded; moveToWaitingChildren then returns false")
    func nothingPending() async throws {
        try await withQueue("orders") { orders, client, _ in
            let answers = Mutex<[Bool]>([])
            let kidsQueue = try Queue("kids", client: client)
            let parentWorker = try Worker(queue: "orders", client: client) { job in
                // No children at all: nothing to wait for.
                let alone = try await job.moveToWaitingChildren()
                let child = try await job.addChild("pack", data: ["n": 4], queue: "kids")
                // The child completes while this job is still active: only :processed changes.
                let childDone = try await eventually(.seconds(60)) { try await kidsQueue.getState(child.id) == .completed }
                guard childDone else { throw TestFailure("the child did not complete") }
                let afterwards = try await job.moveToWaitingChildren()
                let specific = try await job.moveToWaitingChildren(childKey: child.key)
                answers.withLock { $0 = [alone, afterwards, specific] }
                return try await job.childrenValues()[child.key] ?? .null
            }
            let kids = try kidsWorker(client)
            let runners = [Task { try await parentWorker.run() }, Task { try await kids.run() }]
            let order = try await orders.add("order")
            #expect(try await eventually(.seconds(60)) { try await orders.getState(order.id) == .completed })
            await parentWorker.close()
            await kids.close()
            for runner in runners { try await runner.value }
            #expect(answers.withLock { $0 } == [false, false, false])
            let done = try #require(try await orders.getJob(order.id))
            #expect(done.returnValue == ["n": 40])
            #expect(done.attemptsStarted == 1)
            let events = try await RedisInspector(client: client).stream("bull:orders:events").map(\.fields)
            #expect(!events.contains { $0.contains("waiting-children") })
        }
    }

    @Test("a job whose child failed with failParentOnFailure cannot wait: it fails at once (-9)")
    func failedChildren() async throws {
        try await withQueue("orders") { orders, client, _ in
            let kidsQueue = try Queue("kids", client: client)
            let parentWorker = try Worker(queue: "orders", client: client) { job in
                let child = try await job.addChild("pack", data: ["fail": true, "reason": "no stock"], queue: "kids",
                                                   options: .init(onFailure: .fail))
                // The child fails for good while this job is still active.
                let childFailed = try await eventually(.seconds(60)) { try await kidsQueue.getState(child.id) == .failed }
                guard childFailed else { throw TestFailure("the child did not fail") }
                try await job.moveToWaitingChildren()
                return "unreachable"
            }
            let order = try await orders.add("order", options: .init(attempts: 3))
            try await withWorkers([parentWorker, try scriptedWorker("kids", client: client)]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await orders.getState(order.id) == .failed })
            }
            let failed = try #require(try await orders.getJob(order.id))
            #expect(failed.failedReason?.contains("failParentOnFailure") == true)
            #expect(failed.attemptsMade == 1, "an unrecoverable failure uses no retry")
            #expect(try await failed.dependencies(client: client).failed.count == 1)
        }
    }

    @Test("children added by a running job are stored as FlowProducer children; outside a handler the calls explain themselves")
    func childLayout() async throws {
        try await withQueue("orders") { orders, client, _ in
            let added = Mutex<Job?>(nil)
            // The child goes to the parent's own queue, so this one worker runs both.
            let worker = try Worker(queue: "orders", client: client) { job in
                if job.name == "pack" { return "packed" }
                if job.attemptsStarted == 1 {
                    let child = try await job.addChild("pack", data: ["n": 1])
                    added.withLock { $0 = child }
                    try await job.moveToWaitingChildren()
                }
                return .array(Array(try await job.childrenValues().values))
            }
            let runner = Task { try await worker.run() }
            let order = try await orders.add("order")
            #expect(try await eventually(.seconds(60)) { try await orders.getState(order.id) == .completed })
            await worker.close()
            try await runner.value
            #expect(try await orders.getJob(order.id)?.returnValue == ["packed"])
            let child = try #require(added.withLock { $0 })
            #expect(child.queue.queueName == "orders", "the parent's own queue by default")
            let fields = try await hashFields(client, child.key)
            #expect(fields["parentKey"] == order.key)
            #expect(try JSONValue.parse(fields["parent"] ?? "") == ["id": .string(order.id), "queueKey": "bull:orders"])
            #expect(try JSONValue.parse(fields["opts"] ?? "")["parent"] == ["id": .string(order.id), "queue": "bull:orders"])
            // The snapshot addChild returned already has the links and options a re-read gives.
            #expect(child.parentKey == order.key)
            #expect(child.parents.map(\.id) == [order.id])
            #expect(child.parents.map(\.queueKey) == ["bull:orders"])
            #expect(child.fields["parent"] == fields["parent"])
            #expect(child.options == JobOptions(stored: try JSONValue.parse(fields["opts"] ?? "")))

            let snapshot = try #require(try await orders.getJob(order.id))
            await #expect { try await snapshot.addChild("x") } throws: { ($0 as? QueueError)?.code == .jobNotInState }
            await #expect { try await snapshot.moveToWaitingChildren() } throws: { ($0 as? QueueError)?.code == .jobNotInState }
        }
    }
}
