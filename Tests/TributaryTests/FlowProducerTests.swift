import Synchronization
import Testing
@testable import Tributary

/// FlowProducer: BullMQ-compatible trees, stored atomically and run parent-after-children.
@Suite("FlowProducer")
struct FlowProducerTests {
    @Test("a tree is stored as BullMQ stores it, and Tributary workers run it children first")
    func storeAndRun() async throws {
        try await withQueue("reports") { reports, client, _ in
            let flows = FlowProducer(client: client)
            let root = try await flows.add(FlowJob("report", queue: "reports", data: ["title": "q3"], children: [
                FlowJob("step", queue: "steps", data: ["n": 1]),
                FlowJob("step", queue: "steps", data: ["n": 2], children: [FlowJob("sub", queue: "steps", data: ["n": 3])]),
            ]))
            let parentKey = "bull:reports:\(root.job.id)"
            #expect(root.job.id.count == 32 && root.job.id.allSatisfy(\.isHexDigit))
            #expect(try await reports.getState(root.job.id) == .waitingChildren)
            let dependencies = try await client.send(RedisCommand("SMEMBERS", .string(parentKey + ":dependencies"))).array?.compactMap(\.string)
            #expect(Set(dependencies ?? []) == Set(root.children.map { "bull:steps:\($0.job.id)" }))
            let child = try await hashFields(client, "bull:steps:\(root.children[0].job.id)")
            #expect(Set(child.keys) == ["name", "data", "opts", "timestamp", "delay", "priority", "parentKey", "parent"])
            #expect(child["parentKey"] == parentKey)
            #expect(try JSONValue.parse(child["parent"]!) == ["id": .string(root.job.id), "queueKey": "bull:reports"])
            #expect(try canonical(JSONValue.parse(child["opts"]!))
                == canonical(["attempts": 0, "delay": 0, "parent": ["id": .string(root.job.id), "queue": "bull:reports"]]))
            // The returned snapshots carry the links a re-read gives.
            #expect(root.job.parentKey == nil && root.job.parents.isEmpty)
            #expect(root.children[0].job.parentKey == parentKey)
            #expect(root.children[0].job.fields["parent"] == child["parent"])
            #expect(root.children[1].children[0].job.parents.map(\.id) == [root.children[1].job.id])
            let steps = try Queue("steps", client: client)
            #expect(try await steps.getState(root.children[1].job.id) == .waitingChildren)
            #expect(try await steps.getState(root.children[1].children[0].job.id) == .waiting)

            let order = Mutex<[String]>([])
            let stepWorker = try Worker(queue: "steps", client: client) { job in
                order.withLock { $0.append(job.name) }
                let below = try await job.childrenValues().values.compactMap(\.intValue).reduce(0, +)
                return .int((job.data["n"]?.intValue ?? 0) + below)
            }
            let reportWorker = try Worker(queue: "reports", client: client) { job in
                .int(try await job.childrenValues().values.compactMap(\.intValue).reduce(0, +))
            }
            let runners = [Task { try await stepWorker.run() }, Task { try await reportWorker.run() }]
            #expect(try await reports.waitUntilFinished(root.job.id) == 6)
            await stepWorker.close()
            await reportWorker.close()
            for runner in runners { try await runner.value }
            // sub before its parent step.
            let seen = order.withLock { $0 }
            #expect(seen.firstIndex(of: "sub")! < seen.lastIndex(of: "step")!)
        }
    }

    @Test("an invalid node is named by its path, and nothing is stored")
    func invalidNode() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            await #expect {
                try await FlowProducer(client: client).add(FlowJob("root", queue: "q", children: [
                    FlowJob("ok", queue: "q"),
                    FlowJob("bad", queue: "q", options: .init(priority: -1)),
                ]))
            } throws: { error in
                guard let error = error as? QueueError else { return false }
                return error.code == .invalidOption && error.message.contains("flow node root > bad[1]: priority")
            }
            await #expect(throws: QueueError.self) {
                try await FlowProducer(client: client).add(FlowJob("root", queue: "a:b"))
            }
            #expect(try await client.send(RedisCommand("DBSIZE")) == .integer(0))
        }
    }

    @Test("a failure inside the transaction leaves nothing stored")
    func atomicity() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            // The last node's queue has a wait key of the wrong type: its add would fail inside EXEC.
            try await client.send(RedisCommand("SET", "bull:broken:wait", "not a list"))
            let before = try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string)
            await #expect {
                try await FlowProducer(client: client).add(FlowJob("root", queue: "q", children: [
                    FlowJob("a", queue: "q"), FlowJob("b", queue: "other"), FlowJob("c", queue: "broken"),
                ]))
            } throws: { error in
                guard let error = error as? QueueError else { return false }
                return error.code == .flowRejected && error.message.contains("bull:broken:wait holds a string")
            }
            let after = try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string)
            #expect(before == ["bull:broken:wait"])
            #expect(after == before, "nothing may be stored, not even the guard")
        }
    }
}
