import Foundation
import Testing
@testable import Tributary

/// Counts handler runs per flow node and fails chosen nodes on their first run (a failure that a retry fixes).
actor NodeRuns {
    private(set) var counts: [String: Int] = [:]
    private(set) var inputs: [String: [String: JSONValue]] = [:]
    private let failFirst: Set<String>

    init(failFirst: Set<String> = []) { self.failFirst = failFirst }

    /// Records a run; returns whether this run must fail.
    func start(_ job: Job) -> Bool {
        let node = job.flowNodeId ?? job.id
        counts[node, default: 0] += 1
        inputs[node] = job.inputs
        return failFirst.contains(node) && counts[node] == 1
    }

    func count(_ node: String) -> Int { counts[node, default: 0] }
}

/// A worker whose handler counts runs in `runs`, fails a node's first run when asked, and returns
/// "<node>(<inputs sorted>)".
func countingWorker(_ queue: String, client: RedisClient, runs: NodeRuns) throws -> Worker {
    try Worker(queue: queue, client: client, options: .init(concurrency: 4)) { job in
        let node = job.flowNodeId ?? job.id
        if await runs.start(job) { throw UnrecoverableError("\(node) failed on its first run") }
        let parts = job.inputs.keys.sorted().map { job.inputs[$0]?.stringValue ?? "?" }
        return .string(parts.isEmpty ? node : "\(node)(\(parts.joined(separator: ",")))")
    }
}

@Suite("Flow runs: retry and redrive")
struct FlowRunRedriveTests {
    @Test("job retry of a node whose inputs are not complete never runs it with part of them")
    func retryWithMissingInputs() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "chain", "queue": "dag", "nodes": {
                  "flaky": {}, "bad": {"needs": "flaky"}, "report": {"needs": "bad"}}}
                """)
            try await flows.submit(plan, runId: "m")
            let runs = NodeRuns(failFirst: ["bad"])
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                _ = try await flows.waitForRun("m", timeout: .seconds(60))
            }
            #expect(try await flows.getFlowRun("m")?.status == .failed)
            #expect(try await dag.getState("m.report") == .failed)
            // report's input failed and was not retried: retrying report alone is refused.
            await #expect(throws: QueueError.self) { try await dag.retryJob("m.report") }
            #expect(try await dag.getState("m.report") == .failed)

            // The issue's sequence: retry bad, then report. report waits for bad instead of running without it.
            try await dag.retryJob("m.bad")
            try await dag.retryJob("m.report")
            #expect(try await dag.getState("m.report") == .waitingChildren)
            #expect(try await flows.getFlowRun("m")?.status == .running)
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                let run = try await flows.waitForRun("m", timeout: .seconds(60))
                #expect(run.status == .completed)
            }
            #expect(await runs.count("report") == 1)
            #expect(await runs.inputs["report"] == ["bad": "bad(flaky)"])
            #expect(try await dag.getJob("m.report")?.returnValue == "report(bad(flaky))")
            #expect(try await runEvents(client).map { $0["event"] } == ["run-failed", "run-completed"])
        }
    }

    @Test("flow retry re-runs only the failed node and its dependents; completed nodes never run again")
    func redrive() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "redrive", "queue": "dag", "nodes": {
                  "src": {}, "ok": {"needs": "src"}, "bad": {"needs": "src"},
                  "join": {"needs": ["ok", "bad"]}, "other": {}}}
                """)
            try await flows.submit(plan, runId: "r")
            let runs = NodeRuns(failFirst: ["bad"])
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                #expect(try await flows.waitForRun("r", timeout: .seconds(60)).status == .failed)
            }
            #expect(await runs.counts == ["src": 1, "ok": 1, "bad": 1, "other": 1], "join failed without running")

            let retry = try await flows.retryFlowRun("r")
            #expect(retry == FlowRunRetry(rerun: 2, kept: 3, active: 0))
            #expect(try await dag.getState("r.bad") == .waiting)
            #expect(try await dag.getState("r.join") == .waitingChildren)
            let reopened = try #require(try await flows.getFlowRun("r"))
            #expect(reopened.status == .running && reopened.finishedAt == nil)
            #expect(reopened.node("bad")?.outcome == nil && reopened.node("ok")?.outcome == "completed")
            #expect(reopened.node("bad")?.job?.attemptsMade == 0)

            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                #expect(try await flows.waitForRun("r", timeout: .seconds(60)).status == .completed)
            }
            #expect(await runs.counts == ["src": 1, "ok": 1, "bad": 2, "join": 1, "other": 1])
            #expect(try await dag.getJob("r.join")?.returnValue == "join(bad(src),ok(src))")
            // A completed run has nothing to re-run.
            #expect(try await flows.retryFlowRun("r") == FlowRunRetry(rerun: 0, kept: 5, active: 0))
            await #expect(throws: QueueError.self) { try await flows.retryFlowRun("nope") }
        }
    }

    @Test("flow retry stores removed nodes again and re-runs a completed node whose needed result is gone")
    func redriveAfterRetention() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "kept-little", "queue": "dag", "defaults": {"removeOnComplete": true, "removeOnFail": true},
                 "nodes": {"a": {}, "b": {"needs": "a"}, "c": {"needs": "b"}}}
                """)
            try await flows.submit(plan, runId: "k")
            let runs = NodeRuns(failFirst: ["b"])
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                #expect(try await flows.waitForRun("k", timeout: .seconds(60)).status == .failed)
            }
            #expect(try await dag.getJob("k.b") == nil)
            #expect(try await dag.getJob("k.a") == nil)
            // b and c are stored again; a's result is gone with its job, so a runs again to produce it.
            #expect(try await flows.retryFlowRun("k") == FlowRunRetry(rerun: 3, kept: 0, active: 0))
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                #expect(try await flows.waitForRun("k", timeout: .seconds(60)).status == .completed)
            }
            #expect(await runs.counts == ["a": 2, "b": 2, "c": 1])
            #expect(await runs.inputs["c"] == ["b": "b(a)"])
        }
    }

    @Test("a cancelled run is resumed by flow retry: removed nodes run, the finished one does not")
    func resumeCancelled() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "resume", "queue": "dag", "nodes": {"first": {}, "second": {"needs": "first"},
                 "third": {"needs": "second"}}}
                """)
            try await flows.submit(plan, runId: "c")
            let release = AsyncStream<Void>.makeStream()
            let runs = NodeRuns()
            let holding = try Worker(queue: "dag", client: client) { job in
                _ = await runs.start(job)
                for await _ in release.stream { break }
                return "first"
            }
            try await withWorkers([holding]) { () async throws in
                #expect(try await eventually { try await dag.getState("c.first") == .active })
                #expect(try await flows.cancelFlowRun("c") == FlowRunCancellation(removed: 2, left: 1))
                release.continuation.yield()
                #expect(try await flows.waitForRun("c", timeout: .seconds(60)).status == .cancelled)
            }
            #expect(try await dag.getJob("c.third") == nil)
            #expect(try await flows.retryFlowRun("c") == FlowRunRetry(rerun: 2, kept: 1, active: 0))
            let resumed = try #require(try await flows.getFlowRun("c"))
            #expect(resumed.status == .running && resumed.cancelledAt == nil)
            #expect(resumed.node("third")?.state == .waitingChildren)
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                #expect(try await flows.waitForRun("c", timeout: .seconds(60)).status == .completed)
            }
            #expect(await runs.counts == ["first": 1, "second": 1, "third": 1])
            #expect(try await dag.getJob("c.third")?.returnValue == "third(second(first))")
            #expect(try await runEvents(client).map { $0["event"] } == ["run-cancelled", "run-completed"])
        }
    }

    @Test("waitForRun returns the settled run; it times out on a run nobody works on")
    func waitForRun() async throws {
        try await withQueue("dag") { _, client, _ in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(FlowRunTests.diamond), runId: "w")
            do {
                _ = try await flows.waitForRun("w", timeout: .milliseconds(300))
                Issue.record("waitForRun returned for a run nobody works on")
            } catch let timeout as FlowRunWaitTimeout {
                #expect(timeout.run.status == .running)
            }
            let runs = NodeRuns()
            let waiting = Task { try await flows.waitForRun("w", timeout: .seconds(60)) }
            try await withWorkers([try countingWorker("dag", client: client, runs: runs)]) { () async throws in
                let run = try await waiting.value
                #expect(run.status == .completed && run.finishedAt != nil)
                #expect(run.nodes.allSatisfy { $0.outcome == "completed" })
            }
            let event = try #require(try await runEvents(client).last)
            #expect(event["event"] == "run-completed" && event["runId"] == "w" && event["status"] == "completed")
            #expect(event["nodes"] == "4" && event["completed"] == "4")
            await #expect(throws: QueueError.self) { try await flows.waitForRun("nope") }
        }
    }

    @Test("waitUntilFinished returns for a job that failed with removeOnFail (it trusts the failed event)")
    func waitUntilFinishedRemoveOnFail() async throws {
        try await withQueue("jobs") { queue, client, _ in
            let job = try await queue.add("x", data: ["fail": true], options: .init(removeOnFail: .removeAll))
            let waiting = Task { try await queue.waitUntilFinished(job.id) }
            // The wait reads the events stream (XREAD BLOCK) before the job is processed.
            #expect(try await eventually {
                try await client.send(RedisCommand("CLIENT", "LIST")).string?.contains("cmd=xread") == true
            })
            try await withWorkers([try scriptedWorker("jobs", client: client)]) { () async throws in
                #expect(try await eventually { try await queue.getJob(job.id) == nil })
            }
            // Bounded: a wait that never returns would fail here instead of hanging the suite.
            let timer = Task { try await Task.sleep(for: .seconds(30)); waiting.cancel() }
            do {
                _ = try await waiting.value
                Issue.record("a failed job's wait returned a value")
            } catch let failure as JobFailedError {
                #expect(failure.reason == "x failed on purpose")
            }
            timer.cancel()
        }
    }
}
