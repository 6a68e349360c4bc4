import Foundation
import Testing
@testable import Tributary

/// The entries of a prefix's run-finished stream (`<prefix>:__flows__:events`), oldest first.
func runEvents(_ client: RedisClient, prefix: String = "bull") async throws -> [[String: String]] {
    let reply = try await client.send(RedisCommand("XRANGE", .string("\(prefix):__flows__:events"), "-", "+"))
    return (reply.array ?? []).compactMap { entry in (entry.array?.last?.array ?? []).fieldPairs }
}

@Suite("Flow runs: recorded outcomes and settling")
struct FlowRunOutcomeTests {
    @Test("a run whose nodes use removeOnComplete completes; its record keeps each node's outcome")
    func removeOnCompleteRun() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "kept-nothing", "queue": "dag", "defaults": {"removeOnComplete": true},
                 "nodes": {"first": {}, "second": {"needs": "first"}}}
                """)
            try await flows.submit(plan, runId: "r")
            #expect(try await hashFields(client, "bull:dag:r.first")["flowRunKey"] == "bull:__flows__:run:r")
            try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("r")?.status != .running })
            }
            let run = try #require(try await flows.getFlowRun("r"))
            #expect(run.status == .completed)
            #expect(run.nodes.allSatisfy { $0.job == nil && $0.state == .unknown && $0.outcome == "completed" })
            #expect(run.finishedAt != nil)
            let record = try await hashFields(client, "bull:__flows__:run:r")
            #expect(record["state"] == "completed" && record["node:first"] == "completed")
            let events = try await runEvents(client)
            #expect(events.count == 1)
            #expect(events.first?["event"] == "run-completed" && events.first?["runId"] == "r")
            #expect(events.first?["completed"] == "2" && events.first?["nodes"] == "2" && events.first?["failed"] == "0")
        }
    }

    @Test("a failed node removed by removeOnFail still fails its run, which settles once nothing can run")
    func removeOnFailRun() async throws {
        try await withQueue("dag") { _, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "f", "queue": "dag", "nodes": {
                  "bad": {"data": {"fail": true}, "opts": {"removeOnFail": true}},
                  "after": {"needs": "bad"}, "other": {}}}
                """)
            try await flows.submit(plan, runId: "f")
            try await withWorkers([try joiningWorker("dag", client: client, concurrency: 1)]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("f")?.finishedAt != nil })
            }
            let run = try #require(try await flows.getFlowRun("f"))
            #expect(run.status == .failed)
            #expect(run.node("bad")?.outcome == "failed" && run.node("bad")?.job == nil)
            #expect(run.node("other")?.outcome == "completed")
            let events = try await runEvents(client)
            #expect(events.map { $0["event"] } == ["run-failed"])
            #expect(events.first?["failed"] == "2" && events.first?["completed"] == "1")
        }
    }

    @Test("a root that failed does not end the run while another branch can still run")
    func failedOnlyWhenNothingCanRun() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "two", "queue": "dag", "nodes": {
                  "bad": {"data": {"fail": true}}, "slow": {"queue": "slow"}}}
                """)
            try await flows.submit(plan, runId: "t")
            try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                #expect(try await eventually { try await dag.getState("t.bad") == .failed })
            }
            // "slow" waits for a worker: the run is still running, and has not settled.
            #expect(try await flows.getFlowRun("t")?.status == .running)
            #expect(try await runEvents(client).isEmpty)
            try await withWorkers([try joiningWorker("slow", client: client)]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("t")?.finishedAt != nil })
            }
            #expect(try await flows.getFlowRun("t")?.status == .failed)
            #expect(try await runEvents(client).map { $0["event"] } == ["run-failed"])
        }
    }

    @Test("a cancelled run settles when its active node finishes; removed nodes are recorded cancelled")
    func cancelledRunSettles() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "c", "queue": "dag", "nodes": {"first": {}, "second": {"needs": "first"}}}
                """)
            try await flows.submit(plan, runId: "c")
            let release = AsyncStream<Void>.makeStream()
            let worker = try Worker(queue: "dag", client: client) { _ in
                for await _ in release.stream { break }
                return "done"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await dag.getState("c.first") == .active })
                try await flows.cancelFlowRun("c")
                #expect(try await hashFields(client, "bull:__flows__:run:c")["node:second"] == "cancelled")
                #expect(try await runEvents(client).isEmpty, "the active node has not finished")
                release.continuation.yield()
                #expect(try await eventually { try await runEvents(client).count == 1 })
            }
            let event = try #require(try await runEvents(client).first)
            #expect(event["event"] == "run-cancelled" && event["cancelled"] == "1" && event["completed"] == "1")
            #expect(try await flows.getFlowRun("c")?.status == .cancelled)
        }
    }

    @Test("job states are read in one step: a job moving between a list and a set never reads as unknown")
    func statesAreAtomic() async throws {
        try await withQueue("moving") { queue, client, server in
            _ = try await queue.add("x", options: .init(jobId: "x"))
            // A second connection moves the job between `wait` and `completed`, each move atomic.
            let mover = try await RedisClient.connect(try RedisConfiguration(url: server.unixURL))
            let moving = Task {
                var inWait = true
                while !Task.isCancelled {
                    let commands: [RedisCommand] = inWait
                        ? [RedisCommand("LREM", "bull:moving:wait", 0, "x"), RedisCommand("ZADD", "bull:moving:completed", 1, "x")]
                        : [RedisCommand("ZREM", "bull:moving:completed", "x"), RedisCommand("LPUSH", "bull:moving:wait", "x")]
                    _ = try await mover.transaction(commands)
                    inWait.toggle()
                }
            }
            // Many reads at once, as a large run's view needs them: more than Redis takes from one socket read.
            let many = Array(repeating: (queue: queue.keys, id: "x"), count: 2_000)
            var unknown = 0
            for _ in 0..<20 {
                unknown += try await Queue.states(of: many, client: client).filter { $0 == .unknown }.count
            }
            moving.cancel()
            _ = try? await moving.value
            await mover.close()
            #expect(unknown == 0)
        }
    }
}
