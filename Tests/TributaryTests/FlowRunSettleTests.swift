import Testing
@testable import Tributary

/// A switch a handler reads.
private actor Switch {
    private(set) var isSet = false
    func set() { isSet = true }
}

/// When a finishing node settles its run: only when the run may have ended, so a node's finish costs the same in a
/// run of 10 nodes as in a run of 100,000 (settling reads every node).
@Suite("Flow runs: settling only when a run may have ended")
struct FlowRunSettleTests {
    /// Calls of `command` in INFO commandstats since the last CONFIG RESETSTAT.
    private func calls(_ client: RedisClient, _ command: String) async throws -> Int {
        let stats = try await client.send(RedisCommand("INFO", "commandstats")).string ?? ""
        let line = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_\(command):") }
        return line.flatMap { $0.split(separator: ",").first.flatMap { Int($0.split(separator: "=").last ?? "") } } ?? 0
    }

    @Test("a chain of 300 nodes is settled once, at its end, not scanned at every node's finish")
    func chainSettlesOnce() async throws {
        try await withQueue("chain") { chain, client, _ in
            let nodes = 300
            var definition = JSONObject()
            for index in 0..<nodes {
                definition["n\(index)"] = index == 0 ? [:] : ["needs": .string("n\(index - 1)")]
            }
            let plan = try FlowCompiler.compile(["flow": "chain", "queue": "chain", "nodes": .object(definition)],
                                                source: "chain")
            let flows = FlowProducer(client: client)
            try await flows.submit(plan, runId: "c")
            try await client.send(RedisCommand("CONFIG", "RESETSTAT"))
            let worker = try Worker(queue: "chain", client: client, options: .init(concurrency: 1)) { _ in "ok" }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await chain.getJobCounts().completed == nodes })
            }
            // Each node's job is read once when a worker takes it, and its inputs before its handler runs (HGETALL
            // of its :processed and :failed hashes); settling the run reads the whole run record with HGETALL, which
            // happened at every finish (4 per node) before the run counted its outcomes.
            let reads = try await calls(client, "hgetall")
            #expect(reads <= 3 * nodes + 5, "HGETALL calls: \(reads) for \(nodes) nodes")
            let run = try #require(try await flows.getFlowRun("c"))
            #expect(run.status == .completed && run.finishedAt != nil)
            let record = try await hashFields(client, "bull:__flows__:run:c")
            #expect(record["nodeCount"] == "300" && record["finishedNodes"] == "300")
            #expect(try await runEvents(client).map { $0["event"] } == ["run-completed"])
        }
    }

    @Test("a node removed before it ran is recorded as removed, so the run settles failed when the rest is done")
    func removedNodeFailsTheRun() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "gone", "queue": "dag", "nodes": {"a": {}, "b": {"queue": "later"}}}
                """)
            try await flows.submit(plan, runId: "g")
            // "b" waits in a queue no worker serves; it is removed, then "a" runs.
            _ = try await Queue("later", client: client).removeJob("g.b")
            #expect(try await hashFields(client, "bull:__flows__:run:g")["node:b"] == "removed")
            let worker = try Worker(queue: "dag", client: client) { _ in "ok" }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("g")?.finishedAt != nil })
            }
            let run = try #require(try await flows.getFlowRun("g"))
            #expect(run.status == .failed)
            let events = try await runEvents(client)
            #expect(events.map { $0["event"] } == ["run-failed"])
            #expect(events.first?["removed"] == "1" && events.first?["completed"] == "1")
        }
    }

    @Test("retrying a failed run takes its failures back out of the counts, and the run completes")
    func retryKeepsCounts() async throws {
        try await withQueue("dag") { dag, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "again", "queue": "dag", "nodes": {"first": {}, "flaky": {"needs": "first"}}}
                """)
            try await flows.submit(plan, runId: "r")
            let failing = Switch()
            let worker = try Worker(queue: "dag", client: client) { job in
                if job.name == "flaky", await !failing.isSet { throw UnrecoverableError("not yet") }
                return "ok"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("r")?.status == .failed })
                var record = try await hashFields(client, "bull:__flows__:run:r")
                #expect(record["finishedNodes"] == "2" && record["unsuccessfulNodes"] == "1")
                await failing.set()
                _ = try await flows.retryFlowRun("r")
                record = try await hashFields(client, "bull:__flows__:run:r")
                #expect(record["finishedNodes"] == "1" && record["unsuccessfulNodes"] == "0")
                #expect(try await eventually { try await flows.getFlowRun("r")?.status == .completed })
            }
            let record = try await hashFields(client, "bull:__flows__:run:r")
            #expect(record["finishedNodes"] == "2" && record["unsuccessfulNodes"] == "0")
        }
    }
}
