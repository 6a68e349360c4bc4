import Foundation
import Testing
@testable import Tributary

/// Raised by handlers that fail an attempt on purpose (a recoverable failure: attempts are left).
private struct AttemptFailed: Error, CustomStringConvertible {
    var description: String { "attempt failed on purpose" }
}

/// What cancelling does to a run's active node and to runs that have finished.
@Suite("Flow runs: cancelling")
struct FlowCancelTests {
    @Test("a failed attempt of a cancelled run's active node is not retried (no backoff / backoff): it fails for good",
          arguments: [false, true])
    func noRetryAfterCancel(backoff: Bool) async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let backoffOption = backoff ? #", "backoff": {"type": "fixed", "delay": 20}"# : ""
            try await flows.submit(try compiledFlow("""
                {"flow": "c", "queue": "dag", "nodes": {
                  "first": {"opts": {"attempts": 4\(backoffOption)}}, "second": {"needs": "first"}}}
                """), runId: "r")
            let gate = Gate()
            let seen = SeenJobs()
            let worker = try Worker(queue: "dag", client: client, options: .init(concurrency: 1)) { job in
                await seen.record(job)
                await gate.wait()
                throw AttemptFailed()
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await dag.getState("r.first") == .active })
                #expect(try await flows.cancelFlowRun("r") == FlowRunCancellation(removed: 1, left: 1))
                await gate.open()
                #expect(try await eventually { try await dag.getState("r.first") == .failed })
                // Long enough for a retry to have been taken had there been one.
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(await seen.names == ["first"])
            let job = try #require(try await dag.getJob("r.first"))
            #expect(job.attemptsMade == 1)
            #expect(job.failedReason == "attempt failed on purpose (not retried: flow run r was cancelled)")
            #expect(try await dag.getState("r.first") == .failed)
            #expect(try await flows.getFlowRun("r")?.status == .cancelled)
        }
    }

    @Test("a node of a run that is not cancelled still retries")
    func retriesWithoutCancel() async throws {
        try await withQueue("dag") { dag, client, _ in
            try await FlowProducer(client: client).submit(try compiledFlow("""
                {"flow": "c", "queue": "dag", "nodes": {"first": {"opts": {"attempts": 3}}}}
                """), runId: "r")
            let worker = try Worker(queue: "dag", client: client) { _ in throw AttemptFailed() }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await dag.getState("r.first") == .failed })
            }
            #expect(try await dag.getJob("r.first")?.attemptsMade == 3)
        }
    }

    @Test("cancelling a completed run or a cancelled one changes nothing and says so; the CLI exits 1")
    func cancelFinishedRun() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("dag") { dag, client, server in
                let flows = FlowProducer(client: client)
                try await flows.submit(try compiledFlow(#"{"flow": "f", "queue": "dag", "nodes": {"a": {}, "b": {"needs": "a"}}}"#),
                                       runId: "done")
                try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                    #expect(try await dag.waitUntilFinished("done.b") == "b(a)")
                }
                let before = try await hashFields(client, "bull:__flows__:run:done")
                await #expect {
                    try await flows.cancelFlowRun("done")
                } throws: { error in
                    guard let error = error as? QueueError else { return false }
                    return error.code == .runFinished && error.message == "flow run 'done' has completed; nothing was changed"
                }
                let cli = try await CLIProcess.run(["flow", "cancel", "done", "--redis", server.unixURL], in: directory)
                #expect(cli.status == 1, "\(cli)")
                #expect(cli.stderr.contains("flow run 'done' has completed; nothing was changed"), "\(cli)")
                #expect(try await hashFields(client, "bull:__flows__:run:done") == before)
                #expect(try await flows.getFlowRun("done")?.status == .completed)

                try await flows.submit(try compiledFlow(#"{"flow": "f", "queue": "dag", "nodes": {"a": {"opts": {"delay": 3600000}}}}"#),
                                       runId: "twice")
                #expect(try await flows.cancelFlowRun("twice") == FlowRunCancellation(removed: 1, left: 0))
                let cancelled = try await hashFields(client, "bull:__flows__:run:twice")
                await #expect {
                    try await flows.cancelFlowRun("twice")
                } throws: { error in
                    (error as? QueueError)?.code == .runFinished && "\(error)".contains("was cancelled already")
                }
                #expect(try await hashFields(client, "bull:__flows__:run:twice") == cancelled)
            }
        }
    }

    @Test("the cancel script itself refuses a run with no node pending or active (a run finishing meanwhile)")
    func cancelScriptChecksAtomically() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(#"{"flow": "f", "queue": "dag", "nodes": {"a": {}}}"#), runId: "done")
            try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                #expect(try await dag.waitUntilFinished("done.a") == "a")
            }
            let before = try await hashFields(client, "bull:__flows__:run:done")
            let reply = try await client.run(QueueScripts.cancelFlowRun.script, keys: [], arguments: [
                "bull:__flows__:run:done", .integer(EpochClock.milliseconds()), "bull:dag", "done.a",
            ])
            #expect(reply == .integer(-2))
            #expect(try await hashFields(client, "bull:__flows__:run:done") == before)
            #expect(try await dag.getState("done.a") == .completed)
        }
    }
}
