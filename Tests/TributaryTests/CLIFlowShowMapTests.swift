import Foundation
import Testing
@testable import Tributary

@Suite("CLI flow show: map nodes and skipped nodes")
struct CLIFlowShowMapTests {
    @Test("a map node is drawn once with its item counts; --expand lists the items; skipped nodes are marked")
    func showMapAndSkipped() async throws {
        try await withQueue("m") { queue, client, server in
            let items = JSONValue.array((0..<10).map { .int(Int64($0)) })
            let flow = mapFlow(#"{"items": "list.files", "toleratedFailures": 3}"#, extraNodes: #"""
                ,
                  "publish": {"needs": "merge", "when": {"input": "merge", "path": "ok", "equals": true}}
                """#)
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(flow), runId: "show")
            try await withWorkers([try mapWorker("m", client: client, items: items, failing: [4, 7])]) { () async throws in
                _ = try await queue.waitUntilFinished("show.publish")
            }
            let run = try #require(try await flows.getFlowRun("show"))
            let progress = try #require(try await flows.mapProgress(of: run.node("convert")!, items: true))
            #expect(progress.total == 10 && progress.completed == 8 && progress.failed == 2 && progress.held == 0)
            #expect(progress.items?[4].state == .failed && progress.items?[5].result == 50)

            try await withCLIDirectory { directory in
                let shown = try await CLIProcess.run(["flow", "show", "show", "--redis", server.unixURL], in: directory)
                #expect(shown.status == 0, "\(shown)")
                #expect(shown.stdout.contains("convert ×10  completed (10 items: 8 completed, 2 failed)"), "\(shown.stdout)")
                #expect(shown.stdout.contains("⊘ publish  skipped (its condition did not hold)"), "\(shown.stdout)")
                #expect(!shown.stdout.contains("[4]"))
                let expanded = try await CLIProcess.run(["flow", "show", "show", "--expand", "--redis", server.unixURL],
                                                        in: directory)
                #expect(expanded.stdout.contains("[4] ✘ failed: item 4 is bad"), "\(expanded.stdout)")
                #expect(expanded.stdout.contains("[5] ✔ completed → 50"), "\(expanded.stdout)")
            }
        }
    }
}
