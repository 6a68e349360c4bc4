import Testing
@testable import Tributary

/// The read side of flows: a job's children by kind (paginated), their counts, getFlow, and removeChildDependency.
@Suite("Flow dependencies")
struct FlowDependenciesTests {
    /// Runs a worker on `queue` whose handler returns `["n": data.n * 10]` until `condition` holds.
    private func runChildren(_ queue: String, client: RedisClient, concurrency: Int = 1,
                             until condition: () async throws -> Bool) async throws {
        let worker = try Worker(queue: queue, client: client, options: .init(concurrency: concurrency)) { job in
            ["n": .int((job.data["n"]?.intValue ?? 0) * 10)]
        }
        let runner = Task { try await worker.run() }
        let held = try await eventually(.seconds(60), condition)
        await worker.close()
        try await runner.value
        #expect(held, "the worker on \(queue) did not get there in time")
    }

    @Test("dependencies and counts before and after the children complete; the parent then leaves waiting-children")
    func beforeAndAfter() async throws {
        try await withQueue("parents") { parents, client, _ in
            let root = try await FlowProducer(client: client).add(FlowJob("parent", queue: "parents", children: [
                FlowJob("child", queue: "kids", data: ["n": 1]), FlowJob("child", queue: "kids", data: ["n": 2]),
                FlowJob("child", queue: "kids", data: ["n": 3]),
            ]))
            let childKeys = root.children.map(\.job.key)
            let parent = try #require(try await parents.getJob(root.job.id))
            let before = try await parent.dependencies(client: client)
            #expect(Set(before.unprocessed) == Set(childKeys) && before.unprocessed.count == 3)
            #expect(before.processed.isEmpty && before.ignored.isEmpty && before.failed.isEmpty && before.nextPages == nil)
            #expect(try await parent.dependencyCounts(client: client) == DependencyCounts(unprocessed: 3))
            #expect(try await parent.ignoredChildrenFailures(client: client).isEmpty)

            try await runChildren("kids", client: client) { try await parents.getState(root.job.id) == .waiting }
            let after = try await parent.dependencies(client: client)
            #expect(after.unprocessed.isEmpty)
            #expect(after.processed == Dictionary(uniqueKeysWithValues: root.children.map {
                ($0.job.key, ["n": .int(($0.job.data["n"]?.intValue ?? 0) * 10)] as JSONValue)
            }))
            #expect(after.allChildKeys == childKeys.sorted())
            #expect(try await parent.dependencyCounts(client: client) == DependencyCounts(processed: 3))
            await #expect(throws: QueueError.self) { try await parent.dependencies() }  // no client outside a handler
        }
    }

    @Test("ignored and failed children: idof failures with their reasons, fpof failures, as BullMQ stores them")
    func ignoredAndFailed() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flows = FlowProducer(client: client)
            let root = try await flows.add(FlowJob("parent", queue: "parents", children: [
                FlowJob("ignored", queue: "kids", data: ["fail": true, "reason": "disk full"], options: .init(onFailure: .ignore)),
                FlowJob("fatal", queue: "kids", data: ["fail": true, "reason": "bad input"], options: .init(onFailure: .fail)),
                FlowJob("slow", queue: "slow"),
            ]))
            let (ignored, fatal, slow) = (root.children[0].job, root.children[1].job, root.children[2].job)
            let kids = try Queue("kids", client: client)
            try await withWorkers([try scriptedWorker("kids", client: client)]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await kids.getJobCounts().failed == 2 })
            }
            let parent = try #require(try await parents.getJob(root.job.id))
            let found = try await parent.dependencies(client: client)
            #expect(found == JobDependencies(unprocessed: [slow.key], ignored: [ignored.key: "disk full"], failed: [fatal.key]))
            #expect(try await parent.ignoredChildrenFailures(client: client) == [ignored.key: "disk full"])
            #expect(try await parent.dependencyCounts(client: client) == DependencyCounts(unprocessed: 1, ignored: 1, failed: 1))

            // getFlow lists them in BullMQ's order: processed, unprocessed, failed, ignored.
            let tree = try #require(try await flows.getFlow(id: root.job.id, queue: "parents"))
            #expect(tree.children.map(\.job.id) == [slow.id, fatal.id, ignored.id])
            #expect(tree.children.map(\.state) == [.waiting, .failed, .failed])
            #expect(tree.children.map(\.failedReason) == [nil, "bad input", "disk full"])
        }
    }

    @Test("pagination reads 300 children of each kind page by page, and stops with no next page")
    func pagination() async throws {
        try await withQueue("parents") { parents, client, _ in
            // HSCAN returns a listpack-encoded hash whole (up to 512 entries by default): a lower limit makes the
            // 300-entry hashes below hashtables, which HSCAN reads in pages, as it does big flows' hashes.
            _ = try await client.send(RedisCommand("CONFIG", "SET", "hash-max-listpack-entries", "64"))
            let root = try await FlowProducer(client: client).add(FlowJob("parent", queue: "parents", children: (0..<300).map {
                FlowJob("child", queue: "kids", data: ["n": .int(Int64($0))])
            }))
            let childKeys = Set(root.children.map(\.job.key))
            let parent = try #require(try await parents.getJob(root.job.id))

            /// Reads every page of the kinds in `first`, returning the union of each kind and the page count.
            func readAll(_ first: DependencyPages) async throws -> (JobDependencies, pages: Int) {
                var union = JobDependencies()
                var pages: DependencyPages? = first
                var count = 0
                while let current = pages, count < 1000 {
                    let page = try await parent.dependencies(current, client: client)
                    union.processed.merge(page.processed) { _, new in new }
                    union.unprocessed += page.unprocessed
                    union.ignored.merge(page.ignored) { _, new in new }
                    union.failed += page.failed
                    pages = page.nextPages
                    count += 1
                }
                return (union, count)
            }

            let pending = try await readAll(DependencyPages(unprocessed: .init(count: 50)))
            #expect(Set(pending.0.unprocessed) == childKeys)
            #expect(pending.pages > 2, "SSCAN with COUNT 50 over 300 members takes several pages")
            #expect(pending.0.processed.isEmpty && pending.0.failed.isEmpty)

            try await runChildren("kids", client: client, concurrency: 8) { try await parents.getState(root.job.id) == .waiting }
            let done = try await readAll(DependencyPages(processed: .init(count: 40), unprocessed: .init(count: 40)))
            #expect(Set(done.0.processed.keys) == childKeys && done.0.unprocessed.isEmpty)
            #expect(done.0.processed.values.allSatisfy { $0["n"]?.intValue.map { $0 % 10 == 0 } == true })
            #expect(done.pages > 2)

            // Failed children are ranged by offset: exact pages.
            let failedKeys = (0..<25).map { "bull:kids:f\($0)" }
            let failures = (0..<300).flatMap { ["bull:kids:i\($0)", "reason \($0)"] }.map(RedisArgument.string)
            _ = try await client.pipeline([
                RedisCommand("ZADD", arguments: [.string(parent.key + ":unsuccessful")]
                    + failedKeys.enumerated().flatMap { [RedisArgument($0.offset), .string($0.element)] }),
                RedisCommand("HSET", arguments: [.string(parent.key + ":failed")] + failures),
            ])
            let firstFailed = try await parent.dependencies(DependencyPages(failed: .init(count: 10)), client: client)
            #expect(firstFailed.failed == Array(failedKeys[0..<10]))
            #expect(firstFailed.nextPages == DependencyPages(failed: .init(cursor: 10, count: 10)))
            let lastFailed = try await parent.dependencies(DependencyPages(failed: .init(cursor: 20, count: 10)), client: client)
            #expect(lastFailed.failed == Array(failedKeys[20...]) && lastFailed.nextPages == nil)
            let failed = try await readAll(DependencyPages(ignored: .init(count: 30), failed: .init(count: 10)))
            #expect(failed.0.failed == failedKeys)
            #expect(failed.0.ignored.count == 300 && failed.0.ignored["bull:kids:i7"] == "reason 7")
            #expect(failed.pages >= 3, "10 per page over 25 failed children")

            #expect(try await parent.dependencyCounts(client: client)
                == DependencyCounts(processed: 300, unprocessed: 0, ignored: 300, failed: 25))
            await #expect(throws: QueueError.self) {
                try await parent.dependencies(DependencyPages(processed: .init(count: 0)), client: client)
            }
        }
    }

    @Test("getFlow reads a 3-level tree with each node's state and result, within depth and maxChildren")
    func getFlowTree() async throws {
        try await withQueue("top") { top, client, _ in
            let flows = FlowProducer(client: client)
            let root = try await flows.add(FlowJob("root", queue: "top", children: [
                FlowJob("mid-a", queue: "mid", data: ["n": 1], children: [
                    FlowJob("leaf", queue: "leaf", data: ["n": 2]), FlowJob("leaf", queue: "leaf", data: ["n": 3]),
                ]),
                FlowJob("mid-b", queue: "mid", data: ["n": 4]),
            ]))
            #expect(try await flows.getFlow(id: "nope", queue: "top") == nil)
            let fresh = try #require(try await flows.getFlow(id: root.job.id, queue: "top"))
            #expect(fresh.state == .waitingChildren && fresh.childCounts == DependencyCounts(unprocessed: 2))
            #expect(fresh.allNodes.count == 5)
            let freshMidA = try #require(fresh.children.first { $0.job.name == "mid-a" })
            #expect(freshMidA.state == .waitingChildren && freshMidA.children.map(\.state) == [.waiting, .waiting])
            #expect(fresh.children.first { $0.job.name == "mid-b" }?.state == .waiting)

            try await runChildren("leaf", client: client) {
                try await Queue("mid", client: client).getState(root.children[0].job.id) == .waiting
            }
            let half = try #require(try await flows.getFlow(id: root.job.id, queue: "top"))
            let midA = try #require(half.children.first { $0.job.name == "mid-a" })
            #expect(midA.state == .waiting && midA.childCounts == DependencyCounts(processed: 2))
            #expect(Set(midA.children.map(\.state)) == [.completed])
            #expect(Set(midA.children.compactMap(\.result)) == [["n": 20], ["n": 30]])
            #expect(half.state == .waitingChildren)

            try await runChildren("mid", client: client) { try await top.getState(root.job.id) == .waiting }
            let done = try #require(try await flows.getFlow(id: root.job.id, queue: "top"))
            #expect(done.childCounts == DependencyCounts(processed: 2))
            #expect(done.children.map(\.state) == [.completed, .completed])
            #expect(Set(done.children.compactMap(\.result)) == [["n": 10], ["n": 40]])
            #expect(done.allNodes.count == 5 && done.allNodes.dropFirst().allSatisfy { $0.state == .completed })

            // depth counts levels, the root included.
            let shallow = try #require(try await flows.getFlow(id: root.job.id, queue: "top", depth: 2))
            #expect(shallow.children.count == 2 && shallow.children.allSatisfy(\.children.isEmpty))
            #expect(shallow.children.first { $0.job.name == "mid-a" }?.childCounts.processed == 2)
            #expect(try await flows.getFlow(id: root.job.id, queue: "top", depth: 1)?.children.isEmpty == true)

            let wide = try await flows.add(FlowJob("wide", queue: "top", children: (0..<7).map {
                FlowJob("c", queue: "leaf", data: ["n": .int(Int64($0))])
            }))
            let capped = try #require(try await flows.getFlow(id: wide.job.id, queue: "top", maxChildren: 3))
            #expect(capped.children.count == 3 && capped.childCounts.unprocessed == 7)
            #expect(try await flows.getFlow(id: wide.job.id, queue: "top")?.children.count == 7)
            await #expect(throws: QueueError.self) { try await flows.getFlow(id: wide.job.id, queue: "top", depth: 0) }
        }
    }

    @Test("getFlow shows a tree that Python bullmq's FlowProducer added")
    func getFlowOfPythonTree() async throws {
        let peer = try PythonPeer.locate()
        try await withQueue("reports", overTCP: true) { _, client, server in
            let tree: JSONValue = ["name": "report", "queueName": "reports", "data": ["title": "q3"], "children": [
                ["name": "step-a", "queueName": "steps", "data": ["n": 1]],
                ["name": "step-b", "queueName": "steps", "data": ["n": 2], "children": [
                    ["name": "sub", "queueName": "subs", "data": ["n": 3]],
                ]],
            ]]
            let python = try await peer.flow(tree, redisURL: server.tcpURL, queue: "reports")
            let ours = try #require(try await FlowProducer(client: client).getFlow(id: python.id, queue: "reports"))

            /// The same shape: ids, names and queues, children in any order.
            func matches(_ node: FlowTree, _ expected: PeerFlowNode) -> Bool {
                guard node.job.id == expected.id, node.job.name == expected.name,
                      node.job.queue.queueName == expected.queue, node.children.count == expected.children.count else {
                    return false
                }
                return expected.children.allSatisfy { child in node.children.contains { matches($0, child) } }
            }
            #expect(matches(ours, python))
            #expect(ours.state == .waitingChildren && ours.job.data == ["title": "q3"])
            let stepB = try #require(ours.children.first { $0.job.name == "step-b" })
            #expect(stepB.state == .waitingChildren && stepB.children.first?.state == .waiting)
            #expect(stepB.children.first?.job.parentKey == "bull:steps:\(stepB.job.id)")
            #expect(ours.children.first { $0.job.name == "step-a" }?.state == .waiting)
        }
    }

    @Test("removeChildDependency: a child that is not the last leaves the parent waiting; the last moves it on")
    func removeChildDependency() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flows = FlowProducer(client: client)
            let root = try await flows.add(FlowJob("parent", queue: "parents", children: [
                FlowJob("child", queue: "kids"), FlowJob("child", queue: "kids"),
            ]))
            let kids = try Queue("kids", client: client)
            let (first, second) = (root.children[0].job, root.children[1].job)

            #expect(try await kids.removeChildDependency(first.id))
            #expect(try await parents.getState(root.job.id) == .waitingChildren)
            let cut = try await hashFields(client, first.key)
            #expect(cut["parentKey"] == nil && cut["parent"] == nil && cut["name"] == "child")
            #expect(try await kids.getState(first.id) == .waiting, "the child itself stays where it was")
            let parent = try #require(try await parents.getJob(root.job.id))
            #expect(try await parent.dependencies(client: client) == JobDependencies(unprocessed: [second.key]))
            #expect(try await kids.removeChildDependency(first.id) == false, "nothing left to remove")

            #expect(try await kids.removeChildDependency(second.id))
            #expect(try await parents.getState(root.job.id) == .waiting)
            let events = try await RedisInspector(client: client).stream("bull:parents:events").map(\.fields)
            #expect(events.last == ["event", "waiting", "jobId", root.job.id, "prev", "waiting-children"])
            #expect(try await parent.dependencyCounts(client: client).total == 0)

            // The parent moves on as when its last child completes: here to the prioritized set.
            let prioritized = try await flows.add(FlowJob("parent", queue: "parents", options: .init(priority: 3),
                                                          children: [FlowJob("child", queue: "kids")]))
            #expect(try await kids.removeChildDependency(prioritized.children[0].job.id))
            #expect(try await parents.getState(prioritized.job.id) == .prioritized)

            let plain = try await kids.add("orphan")
            #expect(try await kids.removeChildDependency(plain.id) == false)
            await #expect { try await kids.removeChildDependency("missing") } throws: {
                ($0 as? QueueError)?.code == .jobNotFound
            }
            let lost = try await flows.add(FlowJob("parent", queue: "parents", children: [FlowJob("child", queue: "kids")]))
            _ = try await client.send(RedisCommand("DEL", .string(lost.job.key)))
            await #expect { try await kids.removeChildDependency(lost.children[0].job.id) } throws: {
                ($0 as? QueueError)?.code == .parentNotFound
            }
        }
    }

    @Test("a node shared by two parents shows under each in getFlow; removeChildDependency releases both")
    func sharedNode() async throws {
        try await withQueue("parents") { parents, client, _ in
            let now = EpochClock.milliseconds()
            for id in ["left", "right"] {
                _ = try await client.addOne(parents.keys, arguments: Queue.addArguments(
                    JobRequest("parent"), keys: parents.keys, timestamp: now, jobId: id, waitsForChildren: true))
            }
            let kids = try Queue("kids", client: client)
            let reply = try await client.addOne(kids.keys, arguments: Queue.addArguments(
                JobRequest("shared"), keys: kids.keys, timestamp: now, jobId: "shared",
                parents: [("left", parents.keys), ("right", parents.keys)]))
            #expect(reply.string == "shared")

            let flows = FlowProducer(client: client)
            for id in ["left", "right"] {
                let tree = try #require(try await flows.getFlow(id: id, queue: "parents"))
                #expect(tree.state == .waitingChildren && tree.children.map(\.job.key) == ["bull:kids:shared"])
            }
            #expect(try await kids.removeChildDependency("shared"))
            #expect(try await parents.getState("left") == .waiting)
            #expect(try await parents.getState("right") == .waiting)
            let fields = try await hashFields(client, "bull:kids:shared")
            #expect(fields["parents"] == nil && fields["parentKey"] == nil && fields["name"] == "shared")
        }
    }

    @Test("child keys split at their last two colons; the prefix may hold colons")
    func splitJobKeys() {
        let split = QueueKeys.split(jobKey: "{tributary}:env:prod:reports:abc123")
        #expect(split?.queue == QueueKeys(prefix: "{tributary}:env:prod", queueName: "reports") && split?.id == "abc123")
        #expect(QueueKeys.split(jobKey: "bull:q:7")?.queue.job("7") == "bull:q:7")
        #expect(QueueKeys.split(jobKey: "q:7") == nil && QueueKeys.split(jobKey: "bull:q:") == nil)
    }
}
