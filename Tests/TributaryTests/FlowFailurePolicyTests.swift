import Testing
@testable import Tributary

/// The four BullMQ failure options on flow trees, and BullMQ's default without them.
@Suite("Flow failure policies")
struct FlowFailurePolicyTests {
    /// A parent in "parents" with a good child in "kids" and a child that fails for good with `policy`.
    private func tree(_ policy: FailurePolicy, goodChildDelay: Duration = .zero) -> FlowJob {
        FlowJob("parent", queue: "parents", children: [
            FlowJob("good", queue: "kids", data: ["value": 7], options: .init(delay: goodChildDelay)),
            FlowJob("bad", queue: "kids", data: ["fail": true, "reason": "disk full"], options: .init(onFailure: policy)),
        ])
    }

    @Test("fail: the child is recorded as unsuccessful and the parent fails with BullMQ's reason")
    func failParent() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(tree(.fail))
            let bad = flow.children[1].job
            let stored = try await hashFields(client, bad.key)
            #expect(try JSONValue.parse(stored["parent"]!)["fpof"] == true)
            #expect(try JSONValue.parse(stored["opts"]!)["fpof"] == true)
            let seen = SeenJobs()
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client, seen: seen)]) { () async throws in
                #expect(try await eventually { try await parents.getState(flow.job.id) == .failed })
            }
            let parent = try #require(try await parents.getJob(flow.job.id))
            #expect(parent.failedReason == "child \(bad.key) failed")
            #expect(try await members(client, flow.job.key + ":unsuccessful") == [bad.key])
            #expect(await seen.names.isEmpty, "the parent's handler must not run")
            #expect(parent.deferredFailure == nil)
        }
    }

    @Test("ignore: the parent runs once the rest is done and can read the failure")
    func ignoreDependency() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(tree(.ignore))
            let bad = flow.children[1].job
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await parents.waitUntilFinished(flow.job.id) == "parent")
            }
            let failed = try await hashFields(client, flow.job.key + ":failed")
            #expect(failed == [bad.key: "disk full"])
            #expect(try await members(client, flow.job.key + ":processed") == [flow.children[0].job.key])
        }
    }

    @Test("remove: the parent runs and nothing is recorded")
    func removeDependency() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(tree(.remove))
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await parents.waitUntilFinished(flow.job.id) == "parent")
            }
            #expect(try await members(client, flow.job.key + ":failed").isEmpty)
            #expect(try await members(client, flow.job.key + ":unsuccessful").isEmpty)
            #expect(try await members(client, flow.job.key + ":processed") == [flow.children[0].job.key])
        }
    }

    @Test("continue: the parent starts at once while another child is still pending")
    func continueParent() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(tree(.continue, goodChildDelay: .seconds(3600)))
            let seen = SeenJobs()
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client, seen: seen)]) { () async throws in
                #expect(try await eventually { await seen.names == ["parent"] })
            }
            #expect(try await hashFields(client, flow.job.key + ":failed") == [flow.children[1].job.key: "disk full"])
            // BullMQ refuses to complete a parent with children pending: the parent should remove them first.
            #expect(try await members(client, flow.job.key + ":dependencies") == [flow.children[0].job.key])
            let parent = try #require(try await parents.getJob(flow.job.id))
            #expect(parent.failedReason?.contains("pending children") == true)
        }
    }

    @Test("without a policy the parent keeps waiting for the failed child, as in BullMQ")
    func keepWaiting() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(tree(.keepWaiting))
            let kids = try Queue("kids", client: client)
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await eventually { try await kids.getState(flow.children[1].job.id) == .failed })
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await parents.getState(flow.job.id) == .waitingChildren)
            #expect(try await members(client, flow.job.key + ":dependencies") == [flow.children[1].job.key])
        }
    }

    @Test("fail propagates up: a grandparent with the same policy fails too")
    func failPropagates() async throws {
        try await withQueue("parents") { parents, client, _ in
            let flow = try await FlowProducer(client: client).add(FlowJob("top", queue: "parents", children: [
                FlowJob("middle", queue: "parents", options: .init(onFailure: .fail), children: [
                    FlowJob("bad", queue: "kids", data: ["fail": true], options: .init(onFailure: .fail)),
                ]),
            ]))
            try await withWorkers([try scriptedWorker("kids", client: client),
                                   try scriptedWorker("parents", client: client)]) { () async throws in
                #expect(try await eventually { try await parents.getState(flow.job.id) == .failed })
            }
            let top = try #require(try await parents.getJob(flow.job.id))
            #expect(top.failedReason == "child \(flow.children[0].job.key) failed")
        }
    }
}
