import Synchronization
import Testing
@testable import Tributary

/// `job.addChild` with a custom jobId that exists already, as BullMQ's add script handles it, checked with Python
/// bullmq on the same queues.
@Suite("Flow: adding an existing job as a child")
struct FlowExistingChildTests {
    @Test("an existing job is linked (pending, or its value recorded when completed); another parent's child is refused (-7), as in BullMQ")
    func existingChildIds() async throws {
        let peer = try PythonPeer.locate()
        try await withQueue("orders", overTCP: true) { orders, client, server in
            let kids = try Queue("kids", client: client)
            // "done" completes with a value; "loose" waits, without a parent; "taken" is the child of a Python parent.
            _ = try await kids.add("done", data: ["v": 42], options: .init(jobId: "done"))
            let kidsWorker = try Worker(queue: "kids", client: client) { job in ["v": job.data["v"] ?? .null] }
            let kidsRunner = Task { try await kidsWorker.run() }
            #expect(try await eventually(.seconds(60)) { try await kids.getState("done") == .completed })
            await kidsWorker.close()
            try await kidsRunner.value
            _ = try await kids.add("loose", data: ["v": 7], options: .init(jobId: "loose"))
            let python = try await peer.flow(["name": "py-parent", "queueName": "orders", "children": [
                ["name": "taken", "queueName": "kids", "data": ["v": 1], "opts": ["jobId": "taken"]],
            ]], redisURL: server.tcpURL, queue: "orders")
            #expect(python.children.map(\.id) == ["taken"])

            let refusal = Mutex<QueueError?>(nil)
            let worker = try Worker(queue: "orders", client: client) { job in
                guard job.name == "parent" else { return .null }
                if job.attemptsStarted == 1 {
                    try await job.addChild("loose", queue: "kids", options: .init(jobId: "loose"))
                    try await job.addChild("done", queue: "kids", options: .init(jobId: "done"))
                    do {
                        try await job.addChild("taken", queue: "kids", options: .init(jobId: "taken"))
                    } catch let error as QueueError {
                        refusal.withLock { $0 = error }
                    }
                    try await job.moveToWaitingChildren()
                }
                let values = try await job.childrenValues().sorted { $0.key < $1.key }
                return .object(JSONObject(uniqueKeysWithValues: values.map { ($0.key, $0.value) }))
            }
            let runner = Task { try await worker.run() }
            let parent = try await orders.add("parent")
            #expect(try await eventually(.seconds(60)) { try await orders.getState(parent.id) == .waitingChildren })

            let error = try #require(refusal.withLock { $0 })
            #expect(error.code == .parentCannotBeReplaced)
            #expect(error.message.contains("job taken exists already in queue 'kids'"))
            let dependencies = try await client.send(RedisCommand("SMEMBERS", .string(parent.key + ":dependencies")))
            #expect(dependencies.array?.compactMap(\.string) == ["bull:kids:loose"])
            let processed = try await hashFields(client, parent.key + ":processed")
            #expect(processed == ["bull:kids:done": #"{"v":42}"#])
            for id in ["loose", "done"] {
                let fields = try await hashFields(client, "bull:kids:\(id)")
                #expect(fields["parentKey"] == parent.key, "\(id)")
                #expect(try JSONValue.parse(fields["parent"] ?? "") == ["id": .string(parent.id), "queueKey": "bull:orders"])
                // Python reads the link as its own.
                let seen = try #require(try await peer.job(id: id, redisURL: server.tcpURL, queue: "kids"))
                #expect(seen["parentKey"] == .string(parent.key), "\(id)")
            }
            #expect(try await hashFields(client, "bull:kids:taken")["parentKey"] == "bull:orders:\(python.id)")
            let duplicated = try await RedisInspector(client: client).stream("bull:kids:events").map(\.fields)
                .filter { $0.count > 3 && $0[1] == "duplicated" }.map { $0[3] }
            #expect(duplicated == ["loose", "done"])

            // Python refuses the same way: "loose" now belongs to the Tributary parent, so it cannot become the
            // child of the Python parent (its Queue.add with a parent gets the same -7).
            let pythonAdd = PeerJob("loose", opts: ["jobId": "loose", "parent": ["id": .string(python.id), "queue": "bull:orders"]])
            await #expect {
                _ = try await peer.addJobs([pythonAdd], redisURL: server.tcpURL, queue: "kids")
            } throws: { error in
                "\(error)".contains("cannot be replaced")
            }
            #expect(try await hashFields(client, "bull:kids:loose")["parentKey"] == parent.key)

            // Once "loose" completes, the parent runs again with both children's values.
            let secondKids = try Worker(queue: "kids", client: client) { job in ["v": job.data["v"] ?? .null] }
            let secondRunner = Task { try await secondKids.run() }
            #expect(try await eventually(.seconds(60)) { try await orders.getState(parent.id) == .completed })
            #expect(try await orders.getJob(parent.id)?.returnValue == ["bull:kids:done": ["v": 42], "bull:kids:loose": ["v": 7]])
            await secondKids.close()
            await worker.close()
            try await secondRunner.value
            try await runner.value
        }
    }
}
