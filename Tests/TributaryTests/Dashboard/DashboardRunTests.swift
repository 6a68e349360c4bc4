import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// Flow runs and BullMQ trees in the dashboard, over real HTTP on a real redis-server.
@Suite("Dashboard flow runs")
struct DashboardRunTests {
    static let diamond = """
        {"flow": "diamond", "queue": "dag", "nodes": {
          "source": {}, "left": {"needs": "source"}, "right": {"needs": "source"},
          "join": {"needs": ["left", "right"]}}}
        """

    @Test("the runs list shows status, counts and duration, and filters by flow name")
    func runsList() async throws {
        try await withDashboard("dag") { dashboard, _, client in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(Self.diamond), runId: "d1")
            try await flows.submit(try compiledFlow(#"{"flow": "solo", "queue": "dag", "nodes": {"only": {}}}"#), runId: "s1")
            let all = try await dashboard.get("/runs")
            #expect(all.status == 200, "\(all)")
            #expect(all.body.contains(#"<a href="/runs/d1">d1</a>"#) && all.body.contains(#"<a href="/runs/s1">s1</a>"#), "\(all)")
            #expect(all.body.contains(#"<span class="state state-running">running</span></td><td>0/4 finished</td>"#), "\(all)")
            let solo = try await dashboard.get("/runs?flow=solo")
            #expect(solo.body.contains(#"<a href="/runs/s1">s1</a>"#) && !solo.body.contains(#"<a href="/runs/d1">d1</a>"#), "\(solo)")
            let none = try await dashboard.get("/runs?flow=nothing")
            #expect(none.body.contains(#"id="no-runs""#))
            // Finish the diamond: the list says completed, 4/4.
            try await withWorkers([try joiningWorker("dag", client: client)]) {
                _ = try await flows.waitForRun("d1", timeout: .seconds(60))
                _ = try await flows.waitForRun("s1", timeout: .seconds(60))
            }
            let after = try await dashboard.get("/runs?flow=diamond")
            #expect(after.body.contains(#"<span class="state state-completed">completed</span></td><td>4/4 finished</td>"#), "\(after)")
        }
    }

    @Test("a run page draws the DAG as SVG: one box per node with its state and job link, every edge, live while running")
    func runPage() async throws {
        try await withDashboard("dag") { dashboard, _, client in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(Self.diamond), runId: "d2")
            let page = try await dashboard.get("/runs/d2")
            #expect(page.status == 200, "\(page)")
            #expect(page.body.contains(#"id="run-status">running<"#))
            #expect(page.body.contains(#"data-live="/runs/d2/dag""#))
            #expect(page.body.contains("<svg"))
            for node in ["source", "left", "right", "join"] {
                #expect(page.body.components(separatedBy: #"data-node="\#(node)""#).count - 1 == 1, "\(node) drawn once")
                #expect(page.body.contains(#"<a class="node" href="/queues/dag/jobs/d2.\#(node)" data-node="\#(node)""#), "\(page)")
            }
            #expect(page.body.contains(#"data-node="source" data-state="waiting""#))
            #expect(page.body.contains(#"data-node="join" data-state="waiting-children""#))
            #expect(page.body.components(separatedBy: #"class="edge""#).count - 1 == 4)
            #expect(page.body.contains(#"data-from="source" data-to="left""#) && page.body.contains(#"data-from="right" data-to="join""#))
            #expect(page.body.contains(#"href="/runs/d2/cancel""#))
            try await withWorkers([try joiningWorker("dag", client: client)]) {
                _ = try await flows.waitForRun("d2", timeout: .seconds(60))
            }
            let drawing = try await dashboard.get("/runs/d2/dag")
            #expect(drawing.status == 200)
            #expect(drawing.body.hasPrefix(#"<span data-status="completed" hidden></span><svg"#), "\(drawing)")
            #expect(drawing.body.components(separatedBy: #"data-state="completed""#).count - 1 == 4)
            #expect(try await dashboard.get("/runs/nope").status == 404)
        }
    }

    @Test("cancel a run after confirmation; retry a failed one")
    func runActions() async throws {
        try await withDashboard("dag") { dashboard, _, client in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(Self.diamond), runId: "d3")
            let unconfirmed = try await dashboard.act("/runs/d3/cancel")
            #expect(unconfirmed.status == 200 && unconfirmed.body.contains(#"name="confirm" value="yes""#))
            #expect(try await flows.getFlowRun("d3", jobs: .summary)?.status == .running)
            let cancelled = try await dashboard.act("/runs/d3/cancel", [("confirm", "yes")])
            #expect(cancelled.status == 303, "\(cancelled)")
            #expect(try await flows.getFlowRun("d3", jobs: .summary)?.status == .cancelled)
            let page = try await dashboard.get("/runs/d3")
            #expect(page.body.contains(#"action="/runs/d3/retry""#), "\(page)")
            let retried = try await dashboard.act("/runs/d3/retry")
            #expect(retried.status == 303, "\(retried)")
            #expect(try await flows.getFlowRun("d3", jobs: .summary)?.status == .running)
        }
    }

    @Test("a BullMQ tree (made with FlowProducer.add, as Node and Python producers make them) is drawn the same way")
    func treePage() async throws {
        try await withDashboard("tree") { dashboard, _, client in
            _ = try await FlowProducer(client: client).add(FlowJob(
                "assemble", queue: "tree", options: .init(jobId: "top"),
                children: [FlowJob("wheel", queue: "tree", options: .init(jobId: "w1")),
                           FlowJob("wheel", queue: "tree", options: .init(jobId: "w2"))]))
            let page = try await dashboard.get("/trees/tree/top")
            #expect(page.status == 200, "\(page)")
            #expect(page.body.contains(#"<a class="node" href="/queues/tree/jobs/top" data-node="bull:tree:top" data-state="waiting-children""#), "\(page)")
            #expect(page.body.contains(#"data-from="bull:tree:w1" data-to="bull:tree:top""#))
            #expect(page.body.contains(#"data-from="bull:tree:w2" data-to="bull:tree:top""#))
            #expect(page.body.contains("wheel #w1"))
        }
    }

    @Test("tributary dashboard serves on the port it prints, on the Redis given")
    func command() async throws {
        try await withCLIDirectory { directory in
            try await withRedisServer { server in
                let log = directory + "/dashboard.log"
                let pid = try CLIProcess.spawn(["dashboard", "--port", "0", "--read-only", "--redis", server.unixURL],
                                               in: directory, logFile: log)
                defer { kill(pid, SIGTERM); _ = ChildProcess.waitForExit(pid, timeout: .seconds(10)) }
                var port: Int?
                #expect(try await eventually(.seconds(60)) {
                    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tributary dashboard: http://127.0.0.1:") }),
                          let number = Int(line.split(separator: ":").last?.split(separator: "/").first ?? "") else { return false }
                    port = number
                    return true
                })
                let base = "http://127.0.0.1:\(try #require(port))"
                let page = try await DashboardUnderTest.curl([base + "/"])
                #expect(page.status == 200 && page.body.contains("read-only"), "\(page)")
            }
        }
    }
}
