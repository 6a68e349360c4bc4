import Testing
@testable import Tributary

/// Deduplicated nodes of flow runs: a node whose deduplication id another job holds takes that job's outcome.
@Suite("Flow runs: deduplicated nodes")
struct FlowDeduplicationTests {
    static let plan = """
        {"flow": "daily", "queue": "dag", "nodes": {
          "fetch": {"opts": {"deduplication": {"id": "fetch-day"}}},
          "use": {"needs": "fetch"}}}
        """

    /// A worker whose `fetch` handler counts its runs and returns `{"rows": 42, "run": <its run>}` (or fails, for
    /// data `{"fail": true}`), and whose other handlers return what they got from `fetch`.
    static func worker(_ client: RedisClient, fetches: Counter, concurrency: Int) throws -> Worker {
        try Worker(queue: "dag", client: client, options: .init(concurrency: concurrency)) { job in
            guard job.name == "fetch" else { return job.inputs["fetch"] ?? "no input" }
            _ = fetches.increment()
            if job.data["fail"] == true { throw UnrecoverableError("source down") }
            return ["rows": 42, "run": .string(job.flowRunId ?? "plain")]
        }
    }

    @Test("two runs with the same deduplication id on a node: the handler runs once, both runs complete, both dependents get its value")
    func twoRunsShareANode() async throws {
        try await withQueue("dag") { queue, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow(Self.plan)
            try await flows.submit(plan, runId: "a")
            try await flows.submit(plan, runId: "b")
            #expect(try await queue.getDeduplicationJobId("fetch-day") == "a.fetch")
            let follower = try await hashFields(client, "bull:dag:b.fetch")
            #expect(follower["flowDedupHolder"] == "a.fetch" && follower["deid"] == nil)
            let events = try await DeduplicationTests.events(client, "dag").filter { $0["event"] == "deduplicated" }
            #expect(events == [["event": "deduplicated", "jobId": "a.fetch", "deduplicationId": "fetch-day",
                                "deduplicatedJobId": "b.fetch"]])
            let waiting = try #require(try await flows.getFlowRun("b"))
            #expect(FlowRunView(run: waiting).node("fetch")?.deduplicatedBy == "a.fetch")

            let fetches = Counter()
            // One slot: the deduplicated node must not keep it from its holder.
            try await withWorkers([try Self.worker(client, fetches: fetches, concurrency: 1)]) { () async throws in
                #expect(try await eventually {
                    let a = try await flows.getFlowRun("a")?.status, b = try await flows.getFlowRun("b")?.status
                    return a == .completed && b == .completed
                })
            }
            #expect(fetches.current == 1)
            let value: JSONValue = ["rows": 42, "run": "a"]
            #expect(try await queue.getJob("b.fetch")?.returnValue == value)
            #expect(try await queue.getJob("a.use")?.returnValue == value)
            #expect(try await queue.getJob("b.use")?.returnValue == value)
            #expect(try await queue.getDeduplicationJobId("fetch-day") == nil)
            let summary = try #require(try await flows.getFlowRun("b", jobs: .summary))
            #expect(FlowRunView(run: summary).node("fetch")?.deduplicatedBy == "a.fetch")
            #expect(FlowRunView(run: summary).node("use")?.deduplicatedBy == nil)
        }
    }

    @Test("a holder that fails: the deduplicated node fails naming it, and the run fails")
    func holderFails() async throws {
        try await withQueue("dag") { queue, client, _ in
            let holder = try await queue.add("fetch", data: ["fail": true],
                                             options: .init(delay: .seconds(3), deduplication: .init(id: "fetch-day")))
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(Self.plan), runId: "r")
            #expect(try await hashFields(client, "bull:dag:r.fetch")["flowDedupHolder"] == holder.id)
            let fetches = Counter()
            // The node is taken before its holder is due, with one slot: it gives the slot back while it waits.
            try await withWorkers([try Self.worker(client, fetches: fetches, concurrency: 1)]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("r")?.finishedAt != nil })
            }
            #expect(fetches.current == 1)
            #expect(try await queue.getState(holder.id) == .failed)
            let run = try #require(try await flows.getFlowRun("r"))
            #expect(run.status == .failed)
            let reason = try #require(run.node("fetch")?.job?.failedReason)
            #expect(reason.contains("job \(holder.id)") && reason.contains("'fetch-day'") && reason.contains("source down"),
                    "\(reason)")
            #expect(try await queue.getJob("r.use")?.returnValue == nil)
        }
    }

    @Test("a node that holds a deduplication id and is skipped by its condition frees the id")
    func skippedHolderFreesTheId() async throws {
        try await withQueue("dag") { queue, client, _ in
            let plan = try compiledFlow("""
                {"flow": "gated", "queue": "dag", "nodes": {
                  "check": {},
                  "fetch": {"needs": "check", "when": {"input": "check", "equals": "go"},
                            "opts": {"deduplication": {"id": "fetch-day"}}}}}
                """)
            let flows = FlowProducer(client: client)
            try await flows.submit(plan, runId: "s")
            #expect(try await queue.getDeduplicationJobId("fetch-day") == "s.fetch")
            let fetches = Counter()
            try await withWorkers([try Self.worker(client, fetches: fetches, concurrency: 2)]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("s")?.status == .completed })
            }
            #expect(try await hashFields(client, "bull:dag:s.fetch")["skipped"] == "1")
            #expect(fetches.current == 0)
            #expect(try await queue.getDeduplicationJobId("fetch-day") == nil)
        }
    }

    @Test("a flow file's deduplication is checked field by field")
    func fileValidation() throws {
        let plan = try FlowCompiler.compile(flowWithNodes(#""a": {"opts": {"deduplication": {"id": "d", "ttl": 5000}}}"#),
                                            source: "flow.json")
        #expect(plan.node("a")?.options.deduplication == .init(id: "d", ttl: .seconds(5)))
        #expect(flowProblems(flowWithNodes(#"""
            "a": {"opts": {"deduplication": {"id": "", "ttl": 0}}},
            "b": {"opts": {"deduplication": {"ttl": 10, "idd": "x"}}},
            "c": {"opts": {"deduplication": {"id": "c", "keepLastIfActive": true}}},
            "d": {"opts": {"deduplication": "d"}}
            """#)) == [
            "flow.json: nodes.a.opts.deduplication.id: must be a non-empty string, got ''",
            "flow.json: nodes.a.opts.deduplication.ttl: must be an integer number of milliseconds >= 1, got 0",
            "flow.json: nodes.b.opts.deduplication: unknown key 'idd' in deduplication; did you mean 'id'?",
            "flow.json: nodes.b.opts.deduplication: missing 'id': the deduplication id that nodes and jobs of this queue share",
            "flow.json: nodes.c.opts.deduplication.keepLastIfActive: BullMQ's deduplication 'keepLastIfActive' is not for "
                + "flow nodes: it would drop or move the job the node's dependents wait for; a flow node takes 'id' and 'ttl'",
            #"flow.json: nodes.d.opts.deduplication: must be an object {"id": "...", "ttl": milliseconds}, got a string"#,
        ])
        #expect(flowProblems(#"{"flow": "f", "queue": "q", "defaults": {"deduplication": {"id": "x"}}, "nodes": {"a": {}}}"#) == [
            "flow.json: defaults.deduplication: deduplication cannot be a default: every node needs its own; set it in the node's opts",
        ])
    }

    @Test("a node's deduplication takes an id and a ttl: extend, replace and keepLastIfActive are refused, and so is a default")
    func refusedOptions() async throws {
        for deduplication in [JobOptions.Deduplication(id: "x", ttl: .seconds(5), extend: true),
                              .init(id: "x", replace: true), .init(id: "x", keepLastIfActive: true)] {
            var flow = FlowBuilder("f", queue: "dag")
            flow.node("n", options: JobOptions(deduplication: deduplication))
            #expect(throws: FlowFileError.self) { try flow.build() }
        }
        var shared = FlowBuilder("f", queue: "dag", defaults: JobOptions(deduplication: .init(id: "x")))
        shared.node("n")
        #expect(throws: FlowFileError.self) { try shared.build() }

        try await withQueue("dag") { _, client, _ in
            // An id and a ttl pass through the builder: the node holds the id, for the ttl.
            var flow = FlowBuilder("f", queue: "dag")
            flow.node("n", options: JobOptions(deduplication: .init(id: "x", ttl: .seconds(60))))
            try await FlowProducer(client: client).submit(try flow.build(), runId: "ok")
            #expect(try await hashFields(client, "bull:dag:ok.n")["deid"] == "x")
            let ttl = try #require(try await client.send(RedisCommand("PTTL", "bull:dag:de:x")).int)
            #expect(ttl > 50_000)
        }
    }
}
