import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) driven
/// through the DevTools protocol by Tests/TributaryTests/Python/browser.py (websocket-client, in .venv).
@Suite("Dashboard in headless Chromium")
struct DashboardBrowserTests {
    /// Runs browser.py with `arguments`; one JSON object per output line.
    static func browser(_ arguments: [String]) async throws -> [JSONValue] {
        let root = PythonPeer.repositoryRoot
        let result = try await CLIProcess.run([root + "/Tests/TributaryTests/Python/browser.py"] + arguments,
                                              in: NSTemporaryDirectory(), timeout: .seconds(180),
                                              executable: root + "/.venv/bin/python")
        guard result.status == 0 else {
            throw DashboardTestError("browser.py failed (run `bash scripts/setup.sh` for chromium and websocket-client): \(result)")
        }
        return try result.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    @Test("every page loads: status 200, its heading, the stylesheet applied, no script error, nothing fetched from elsewhere")
    func everyPage() async throws {
        try await withDashboard("shop") { dashboard, shop, client in
            try await shop.add("charge", data: ["amount": 12], options: .init(jobId: "c1"))
            try await failJob(shop, "c1", reason: "card declined")
            _ = try await FlowProducer(client: client).add(FlowJob(
                "order", queue: "shop", options: .init(jobId: "o1"),
                children: [FlowJob("pick", queue: "shop", options: .init(jobId: "p1"))]))
            try await FlowProducer(client: client).submit(try compiledFlow(DashboardRunTests.diamond), runId: "b1")
            await dashboard.routes.directory.refresh()
            let pages: [(String, String)] = [
                ("/", "Queues"), ("/queues/shop", "Queue shop"), ("/queues/shop/jobs?state=failed", "shop: failed jobs"),
                ("/queues/shop/jobs/c1", "Job c1 in shop"), ("/queues/shop/jobs/c1/remove", "Remove job c1?"),
                ("/queues/shop/clean?state=failed", "Clean queue shop?"), ("/runs", "Flow runs"), ("/runs/b1", "Run b1"),
                ("/runs/b1/cancel", "Cancel run b1?"), ("/trees/shop/o1", "flow of job o1 in queue 'shop': waiting-children"),
            ]
            let lines = try await Self.browser(["pages", dashboard.base] + pages.map(\.0))
            #expect(lines.count == pages.count)
            for (line, (path, heading)) in zip(lines, pages) {
                #expect(line["path"]?.stringValue == path)
                #expect(line["status"]?.intValue == 200, "\(path): \(line)")
                #expect(line["h1"]?.stringValue == heading, "\(path): \(line)")
                #expect(line["stylesheetApplied"]?.boolValue == true, "\(path): \(line)")
                #expect(line["errors"]?.arrayValue?.isEmpty == true, "\(path): \(line)")
                #expect(line["failedRequests"]?.arrayValue?.isEmpty == true, "\(path): \(line)")
                #expect(line["foreignRequests"]?.arrayValue?.isEmpty == true, "\(path): \(line)")
            }
        }
    }

    @Test("clicking Retry on a failed job moves it to waiting")
    func clickRetry() async throws {
        try await withDashboard("shop") { dashboard, shop, _ in
            try await shop.add("charge", options: .init(jobId: "c2"))
            try await failJob(shop, "c2", reason: "card declined")
            let lines = try await Self.browser(["click", dashboard.base, "/queues/shop/jobs/c2", #"button[data-action="retry"]"#])
            let line = try #require(lines.first)
            #expect(line["url"]?.stringValue?.hasPrefix(dashboard.base + "/queues/shop/jobs/c2?notice=") == true, "\(line)")
            #expect(line["jobState"]?.stringValue == "waiting", "\(line)")
            #expect(line["notice"]?.stringValue == "Job c2 was retried.", "\(line)")
            #expect(line["errors"]?.arrayValue?.isEmpty == true, "\(line)")
            #expect(try await shop.getState("c2") == .waiting)
        }
    }

    @Test("a run page updates itself while the run goes: its nodes turn completed without a reload")
    func liveUpdate() async throws {
        try await withDashboard("dag") { dashboard, _, client in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(DashboardRunTests.diamond), runId: "live1")
            let marker = NSTemporaryDirectory() + "tributary-live-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: marker) }
            let allDone = "document.querySelectorAll('#dag a.node[data-state=completed]').length === 4"
            async let watched = Self.browser(["watch", dashboard.base, "/runs/live1", allDone, marker])
            // Finish the run only once the browser shows it running.
            let loaded = try await eventually(.seconds(120)) { FileManager.default.fileExists(atPath: marker) }
            #expect(loaded)
            try await withWorkers([try joiningWorker("dag", client: client)]) {
                _ = try await flows.waitForRun("live1", timeout: .seconds(60))
            }
            let line = try #require(try await watched.first)
            #expect(line["initial"]?.boolValue == false, "the page was loaded while the run was running: \(line)")
            #expect(line["final"]?.boolValue == true, "the drawing caught up without a reload: \(line)")
            #expect(line["url"]?.stringValue == dashboard.base + "/runs/live1")
            #expect(line["errors"]?.arrayValue?.isEmpty == true, "\(line)")
        }
    }
}
