import Testing
@testable import Tributary

@Suite("Flow runs and trees print readably")
struct FlowDescriptionTests {
    @Test("a FlowRun prints its status, then one line per node with its state, reason and needs")
    func runDescription() async throws {
        try await withQueue("dag") { _, client, _ in
            let flows = FlowProducer(client: client)
            let plan = try compiledFlow("""
                {"flow": "chain", "queue": "dag", "nodes": {"fetch": {}, "parse": {"needs": "fetch"}, "report": {"needs": "parse"}}}
                """)
            try await flows.submit(plan, runId: "d")
            let worker = try Worker(queue: "dag", client: client) { job in
                if job.flowNodeId == "parse" { throw UnrecoverableError("parse is broken") }
                return "ok"
            }
            var settled: FlowRun?
            try await withWorkers([worker]) { () async throws in settled = try await flows.waitForRun("d", timeout: .seconds(60)) }
            let run = try #require(settled)
            let lines = run.description.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0] == "flow run d (chain): failed, 3 nodes")
            #expect(lines[1] == "  fetch   completed")
            #expect(lines[2] == "  parse   failed: parse is broken  (needs fetch)")
            #expect(lines[3].hasPrefix("  report  failed") && lines[3].hasSuffix("(needs parse)"), "\(lines[3])")
        }
    }

    @Test("a FlowTree and a FlowNode print one indented line per job")
    func treeDescription() async throws {
        try await withQueue("reports") { _, client, _ in
            let flows = FlowProducer(client: client)
            let added = try await flows.add(FlowJob("report", queue: "reports", options: .init(jobId: "r1"), children: [
                FlowJob("extract", queue: "io", options: .init(jobId: "e1")),
            ]))
            #expect(added.description == "report  reports/r1\n  extract  io/e1")
            let tree = try #require(try await flows.getFlow(id: "r1", queue: "reports"))
            #expect(tree.description == "report  reports/r1  waiting-children\n  extract  io/e1  waiting")
        }
    }
}
