import Foundation
import Synchronization
import Testing
@testable import Tributary

/// Compiles a flow file given as text (test flows are small enough to read inline).
func compiledFlow(_ text: String) throws -> FlowPlan {
    try FlowCompiler.compile(text, source: "test.json")
}

/// A worker that returns, for each node, its data's `value` (or its node id) joined with its inputs' results:
/// "merge(extract-eu,extract-us)" for a node that needs two. Nodes with `"fail": true` fail for good.
func joiningWorker(_ queue: String, client: RedisClient, seen: SeenJobs? = nil, concurrency: Int = 8) throws -> Worker {
    try Worker(queue: queue, client: client, options: .init(concurrency: concurrency)) { job in
        await seen?.record(job)
        if job.data["fail"]?.boolValue == true { throw UnrecoverableError("\(job.flowNodeId ?? job.id) failed on purpose") }
        let me = job.data["value"]?.stringValue ?? job.flowNodeId ?? job.name
        if job.inputs.isEmpty { return .string(me) }
        let parts = job.inputs.keys.sorted().map { job.inputs[$0]?.stringValue ?? "?" }
        return .string("\(me)(\(parts.joined(separator: ",")))")
    }
}

@Suite("Flow runs")
struct FlowRunTests {
    static let diamond = """
        {"flow": "diamond", "queue": "dag", "nodes": {
          "source": {},
          "left":   {"needs": "source"},
          "right":  {"needs": "source"},
          "join":   {"needs": ["left", "right"]}}}
        """

    @Test("a node's inputs come with the script that hands it to its worker: reading them costs no round trip")
    func inputsComeWithTheJob() async throws {
        try await withQueue("down") { down, client, server in
            let plan = try compiledFlow("""
                {"flow": "handoff", "queue": "down", "nodes": {
                  "a": {"queue": "up"}, "skipped": {"queue": "up", "needs": "a", "when": {"input": "a", "path": "ok", "equals": true}},
                  "b": {"needs": ["a", "skipped"]}}}
                """)
            _ = try await FlowProducer(client: client).submit(plan, runId: "h1")
            try await withWorkers([try joiningWorker("up", client: client)]) { () async throws in
                #expect(try await eventually { try await down.getState("h1.b") == .waiting })
            }
            // Take `b` the way a worker does.
            let worker = try Worker(queue: "down", client: client) { _ in .null }
            let reply = try await client.run(
                QueueScripts.moveToActive.script, keys: QueueScripts.moveToActive.keys(for: down.keys),
                arguments: worker.fetchArguments(token: "t1"))
            guard case .job(var job) = try worker.decodeFetch(reply, token: "t1") else {
                Issue.record("no job taken: \(reply)")
                return
            }
            #expect(job.id == "h1.b")
            // A closed client: any read would throw, so the inputs can only come from the fetch's reply.
            let closed = try await RedisClient.connect(try RedisConfiguration(url: server.unixURL))
            await closed.close()
            try await job.loadInputs(client: closed)
            #expect(job.inputs == ["a": "a"])
            #expect(job.skippedInputs == ["skipped"])
            #expect(job.inputFailures.isEmpty)
        }
    }

    @Test("a diamond: the shared node runs once and its result reaches both dependents; inputs by node id")
    func diamondRun() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let receipt = try await flows.submit(try compiledFlow(Self.diamond), runId: "d1")
            #expect(receipt.created && receipt.jobIds["source"] == "d1.source")
            // The shared node carries Tributary's parents field, not BullMQ's single-parent fields.
            let source = try await hashFields(client, "bull:dag:d1.source")
            #expect(source["parentKey"] == nil && source["parent"] == nil)
            #expect(try JSONValue.parse(source["parents"]!).arrayValue?.count == 2)
            // A single-parent node keeps exactly BullMQ's fields.
            let left = try await hashFields(client, "bull:dag:d1.left")
            #expect(left["parentKey"] == "bull:dag:d1.join" && left["parents"] == nil)
            #expect(try JSONValue.parse(left["parent"]!) == ["id": "d1.join", "queueKey": "bull:dag", "fpof": true])

            let seen = SeenJobs()
            try await withWorkers([try joiningWorker("dag", client: client, seen: seen)]) { () async throws in
                #expect(try await dag.waitUntilFinished("d1.join") == "join(left(source),right(source))")
            }
            #expect(await seen.names.filter { $0 == "source" }.count == 1)
            let run = try #require(try await flows.getFlowRun("d1"))
            #expect(run.status == .completed)
            #expect(run.nodes.map(\.id) == ["source", "left", "right", "join"])
            #expect(run.node("source")?.dependents == ["left", "right"])
            #expect(run.nodes.allSatisfy { $0.state == .completed && $0.job?.attemptsMade == 1 })
            #expect(run.node("left")?.job?.returnValue == "left(source)")
        }
    }

    @Test("a run read with job summaries shows what the full read shows, without the jobs' data")
    func summaryRead() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "summary", "queue": "dag", "nodes": {
                  "source": {"data": {"value": "s", "big": "\(String(repeating: "x", count: 5000))"}},
                  "broken": {"needs": "source", "data": {"fail": true}, "onFailure": "ignore"},
                  "join":   {"needs": ["source", "broken"]}}}
                """)
            try await flows.submit(plan, runId: "s1")
            try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                _ = try await dag.waitUntilFinished("s1.join")
            }
            let full = try #require(try await flows.getFlowRun("s1"))
            let summary = try #require(try await flows.getFlowRun("s1", jobs: .summary))
            #expect(summary.status == full.status && summary.status == .completed)
            #expect(summary.nodes.map(\.state) == full.nodes.map(\.state))
            for (brief, whole) in zip(summary.nodes, full.nodes) {
                let (b, w) = (try #require(brief.job), try #require(whole.job))
                #expect(b.name == w.name && b.attemptsMade == w.attemptsMade && b.processedOn == w.processedOn)
                #expect(b.finishedOn == w.finishedOn && b.returnValue == w.returnValue && b.failedReason == w.failedReason)
                #expect(b.data == .null && b.problem == nil)
            }
            #expect(full.node("source")?.job?.data["value"] == "s")
            #expect(summary.node("broken")?.job?.failedReason?.contains("failed on purpose") == true)
            // A removed node's job reads as gone in both.
            _ = try await dag.removeJob("s1.join")
            #expect(try await flows.getFlowRun("s1", jobs: .summary)?.node("join")?.job == nil)
        }
    }

    @Test("resubmitting a run id changes nothing and returns the existing run")
    func idempotentResubmission() async throws {
        try await withQueue("dag") { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow(Self.diamond)
            let first = try await flows.submit(plan, runId: "same")
            let keys = try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string).sorted()
            let events = try await client.send(RedisCommand("XLEN", "bull:dag:events"))
            let again = try await flows.submit(plan, runId: "same")
            #expect(first.created && !again.created)
            #expect(again.jobIds == first.jobIds)
            #expect(try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string).sorted() == keys)
            #expect(try await client.send(RedisCommand("XLEN", "bull:dag:events")) == events)
            // A different run id is a separate run.
            #expect(try await flows.submit(plan, runId: "other").created)
            #expect(try await flows.listFlowRuns(flow: "diamond").map(\.id).sorted() == ["other", "same"])
        }
    }

    @Test("a job id that is taken refuses the whole run: nothing is stored")
    func atomicRun() async throws {
        try await withQueue("dag") { dag, client, _ in
            try await dag.add("squatter", data: [:], options: .init(jobId: "r.join"))
            let before = try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string).sorted()
            await #expect {
                try await FlowProducer(client: client).submit(try compiledFlow(Self.diamond), runId: "r")
            } throws: { error in
                (error as? QueueError)?.code == .flowRejected && "\(error)".contains("bull:dag:r.join exists already")
            }
            #expect(try await client.send(RedisCommand("KEYS", "*")).array?.compactMap(\.string).sorted() == before)
        }
    }

    @Test("a chain 200 deep runs in order")
    func chain() async throws {
        try await withQueue("dag") { dag, client, _ in
            var nodes = ["\"n0\": {\"data\": {\"value\": \"x\"}}"]
            for index in 1..<200 { nodes.append("\"n\(index)\": {\"needs\": \"n\(index - 1)\", \"data\": {\"value\": \"x\"}}") }
            let plan = try compiledFlow("{\"flow\": \"chain\", \"queue\": \"dag\", \"nodes\": {\(nodes.joined(separator: ","))}}")
            #expect(plan.roots == ["n199"])
            try await FlowProducer(client: client).submit(plan, runId: "c")
            try await withWorkers([try joiningWorker("dag", client: client)]) { () async throws in
                let result = try await dag.waitUntilFinished("c.n199").stringValue ?? ""
                #expect(result.count(where: { $0 == "(" }) == 199)
            }
        }
    }

    @Test("fan-in of 1,000 children under one node, across two queues")
    func fanIn() async throws {
        try await withQueue("dag") { dag, client, _ in
            let children = (0..<1000).map { "\"c\($0)\": {\"queue\": \"leaves\", \"data\": {\"value\": \"\($0)\"}}" }
            let needs = (0..<1000).map { "\"c\($0)\"" }.joined(separator: ",")
            let plan = try compiledFlow("""
                {"flow": "fan", "queue": "dag", "nodes": {\(children.joined(separator: ",")), "sum": {"needs": [\(needs)]}}}
                """)
            try await FlowProducer(client: client).submit(plan, runId: "f")
            let sum = try Worker(queue: "dag", client: client) { job in
                #expect(job.inputs.count == 1000)
                return .int(job.inputs.values.compactMap { $0.stringValue.flatMap { Int64($0) } }.reduce(0, +))
            }
            try await withWorkers([try joiningWorker("leaves", client: client, concurrency: 50), sum]) { () async throws in
                #expect(try await dag.waitUntilFinished("f.sum") == .int(999 * 1000 / 2))
            }
        }
    }

    @Test("cancelling a run removes pending nodes, leaves the active one to finish, and marks the run")
    func cancel() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "slow", "queue": "dag", "nodes": {"first": {"data": {"sleep": 1500}},
                 "second": {"needs": "first"}, "third": {"needs": "second"}, "other": {}}}
                """)
            try await flows.submit(plan, runId: "x")
            let started = SeenJobs()
            let worker = try Worker(queue: "dag", client: client, options: .init(concurrency: 1)) { job in
                await started.record(job)
                try await Task.sleep(for: .milliseconds(job.data["sleep"]?.intValue ?? 0))
                return "done"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await dag.getState("x.first") == .active })
                let cancellation = try await flows.cancelFlowRun("x")
                // "other" is waiting behind "first" (file order); second and third wait for their children.
                #expect(cancellation == FlowRunCancellation(removed: 3, left: 1))
                #expect(try await eventually { try await dag.getState("x.first") == .completed })
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(await started.names == ["first"])
            let run = try #require(try await flows.getFlowRun("x"))
            #expect(run.status == .cancelled)
            #expect(run.node("third")?.state == .unknown && run.node("third")?.job == nil)
            await #expect(throws: QueueError.self) { try await flows.cancelFlowRun("nope") }
        }
    }

    @Test("a worker process killed with SIGKILL mid-flow: the flow completes and each dependent sees every input")
    func sigkillMidFlow() async throws {
        try await withQueue("sums") { queue, client, server in
            let work = (0..<6).map { "\"w\($0)\": {\"queue\": \"crashy\", \"data\": {\"sleepMs\": 60000, \"n\": \($0)}}" }
            let plan = try compiledFlow("""
                {"flow": "crash", "queue": "sums", "nodes": {\(work.joined(separator: ",")),
                 "all": {"needs": ["w0", "w1", "w2", "w3", "w4", "w5"]}, "some": {"needs": ["w0", "w1", "w2"]}}}
                """)
            try await FlowProducer(client: client).submit(plan, runId: "k")
            let crashy = try Queue("crashy", client: client)
            let pid = try WorkerProcessTests.startEchoWorker(server, queue: "crashy", concurrency: 3)
            // Each job would sleep a minute in the echo worker: kill it while it holds some.
            #expect(try await eventually(.seconds(60)) { try await crashy.getJobCounts()[.active] > 0 })
            kill(pid, SIGKILL)
            #expect(ChildProcess.waitForExit(pid, timeout: .seconds(10)) == 128 + SIGKILL)

            let survivor = try Worker(queue: "crashy", client: client,
                                      options: .init(concurrency: 3, stalledInterval: .milliseconds(500))) { job in
                ["by": "survivor", "echo": job.data]
            }
            let sums = try Worker(queue: "sums", client: client) { job in
                #expect(job.inputs.values.allSatisfy { $0["echo"]?["n"] != nil })
                return .int(Int64(job.inputs.count))
            }
            try await withWorkers([survivor, sums]) { () async throws in
                #expect(try await queue.waitUntilFinished("k.all") == 6)
                #expect(try await queue.waitUntilFinished("k.some") == 3)
            }
            let run = try #require(try await FlowProducer(client: client).getFlowRun("k"))
            #expect(run.status == .completed)
            #expect(try await members(client, "bull:sums:k.all:processed").count == 6)
            // The interrupted jobs were recovered by the stalled check, not lost.
            #expect(run.nodes.contains { $0.job?.fields["stc"] == "1" })
        }
    }
}

/// Failure policies on a node that several dependents need (Tributary's multi-parent DAG nodes).
@Suite("Flow runs: shared-node failure policies")
struct FlowSharedNodePolicyTests {
    /// "src" is needed by "a" and "b"; "join" needs both. `src` fails for good with `policy`.
    private func plan(_ policy: String) throws -> FlowPlan {
        try compiledFlow("""
            {"flow": "shared", "queue": "dag", "nodes": {
              "src": {"data": {"fail": true}, "onFailure": "\(policy)"},
              "a": {"needs": "src"}, "b": {"needs": "src"}, "join": {"needs": ["a", "b"]}}}
            """)
    }

    private func run(_ policy: String, check: (FlowRun, SeenJobs) async throws -> Void) async throws {
        try await withQueue("dag") { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let flows = FlowProducer(client: client)
            try await flows.submit(try plan(policy), runId: policy)
            let seen = SeenJobs()
            try await withWorkers([try joiningWorker("dag", client: client, seen: seen)]) { () async throws in
                #expect(try await eventually {
                    let status = try await flows.getFlowRun(policy)?.status
                    return status == .completed || status == .failed
                })
            }
            try await check(try #require(try await flows.getFlowRun(policy)), seen)
        }
    }

    @Test("fail: every dependent fails, and theirs in turn; nothing is left waiting")
    func fail() async throws {
        try await run("fail") { run, seen in
            #expect(run.status == .failed)
            #expect(run.nodes.allSatisfy { $0.state == .failed }, "\(run.nodes.map { ($0.id, $0.state) })")
            #expect(run.node("a")?.job?.failedReason == "child bull:dag:fail.src failed")
            #expect(run.node("join")?.job?.failedReason?.hasPrefix("child bull:dag:fail.") == true)
            #expect(await seen.names == ["src"], "no dependent's handler runs")
        }
    }

    @Test("ignore: both dependents run and read the failure by node id")
    func ignore() async throws {
        try await run("ignore") { run, seen in
            #expect(run.status == .completed)
            #expect(run.node("join")?.job?.returnValue == "join(a,b)")
            let a = try #require(await seen.jobs["a"])
            #expect(a.inputs.isEmpty && a.inputFailures == ["src": "src failed on purpose"])
        }
    }

    @Test("remove: both dependents run; nothing is recorded")
    func remove() async throws {
        try await run("remove") { run, seen in
            #expect(run.status == .completed)
            let b = try #require(await seen.jobs["b"])
            #expect(b.inputs.isEmpty && b.inputFailures.isEmpty)
        }
    }

    @Test("continue: both dependents start and read the failure")
    func continueDependents() async throws {
        try await run("continue") { run, seen in
            #expect(run.status == .completed)
            let a = try #require(await seen.jobs["a"])
            #expect(a.inputFailures == ["src": "src failed on purpose"])
        }
    }

    @Test("removing a shared node releases every dependent")
    func removal() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            try await flows.submit(try plan("fail"), runId: "rm")
            #expect(try await dag.getState("rm.a") == .waitingChildren)
            try await dag.removeJob("rm.src")
            #expect(try await dag.getState("rm.a") == .waiting)
            #expect(try await dag.getState("rm.b") == .waiting)
            #expect(try await members(client, "bull:dag:rm.a:dependencies").isEmpty)
        }
    }
}
