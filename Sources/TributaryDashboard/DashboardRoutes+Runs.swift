import Tributary

extension DashboardRoutes {
    /// `GET /runs?flow=F&offset=N`: runs newest first, from their records' counters (bounded: never their nodes).
    func runsPage(query: FormFields) async throws -> DashboardResponse {
        let flow = query.text("flow")
        let offset = max(0, query.text("offset").flatMap { Int($0) } ?? 0)
        let page = try await flows.flowRunPage(flow: flow, offset: offset, limit: configuration.pageSize)
        let now = Self.epochMilliseconds()
        var body = """
            <form method="get" class="filters" action="/runs">
            <input name="flow" placeholder="flow name" value="\(HTML.escape(flow ?? ""))"><button type="submit">Filter</button></form>
            """
        let rows = page.runs.map { run -> [String] in
            let duration = (run.finishedAt ?? now) - run.createdAt
            let counts = "\(run.finishedNodes)/\(run.nodeCount) finished"
                + (run.unsuccessfulNodes > 0 ? ", \(run.unsuccessfulNodes) unsuccessful" : "")
            return [HTML.link(Path.run(run.id), run.id), HTML.link("/runs" + URLText.query([("flow", run.flow)]), run.flow),
                    #"<span class="state state-\#(run.status.rawValue)">\#(run.status.rawValue)</span>"#, counts,
                    HTML.time(run.createdAt), HTML.duration(milliseconds: duration)]
        }
        body += rows.isEmpty ? #"<p class="muted" id="no-runs">No flow run\#(flow.map { " of flow '\(HTML.escape($0))'" } ?? "").</p>"#
            : HTML.table(["Run", "Flow", "Status", "Nodes", "Created", "Duration"], rows, id: "runs")
        if let next = page.nextOffset {
            body += "<p>" + HTML.link("/runs" + URLText.query([("flow", flow), ("offset", "\(next)")]), "older ▸") + "</p>"
        }
        return .html(HTML.page(title: flow.map { "Flow runs of \($0)" } ?? "Flow runs", body: body, readOnly: readOnly))
    }

    /// `GET /runs/ID`: the run's DAG with its facts and actions; the drawing reloads itself while the run goes.
    func runPage(_ runId: String, notice: String?) async throws -> DashboardResponse {
        guard let view = try await runView(runId) else { return notFound("no flow run '\(runId)'") }
        let status = view.status ?? .running
        var body = #"<p>Status: <span class="state state-\#(status.rawValue)" id="run-status">\#(status.rawValue)</span> · \#(HTML.escape(view.stateSummary))</p>"#
        if !readOnly {
            body += "<p>"
            if status == .failed || status == .cancelled {
                body += HTML.actionForm(Path.run(runId) + "/retry", label: "Retry run", csrf: csrfToken)
            }
            if status == .running { body += HTML.link(Path.run(runId) + "/cancel", "Cancel run…") }
            body += "</p>"
        }
        body += #"<div class="dag" id="dag" data-live="\#(HTML.escape(Path.run(runId)))/dag">\#(drawing(view))</div>"#
        return .html(HTML.page(title: "Run \(runId)", body: body, notice: notice, readOnly: readOnly))
    }

    /// `GET /runs/ID/dag`: the drawing alone, which the run page's script fetches every 2 s while the run goes.
    func runDrawing(_ runId: String) async throws -> DashboardResponse {
        guard let view = try await runView(runId) else { return notFound("no flow run '\(runId)'") }
        return .html(drawing(view))
    }

    /// `GET /trees/Q/ID`: a BullMQ tree (from any producer: Node, Python or Tributary) drawn like a run.
    func treePage(queue name: String, id: String) async throws -> DashboardResponse {
        _ = try await queue(named: name)
        guard let tree = try await flows.getFlow(id: id, queue: name, depth: 50, maxChildren: 500) else {
            return notFound("no job '\(id)' in queue '\(name)'")
        }
        let view = FlowRunView(tree: tree)
        let body = #"<p>\#(HTML.escape(view.stateSummary))</p><div class="dag" id="dag">\#(drawing(view))</div>"#
        return .html(HTML.page(title: view.title, body: body, readOnly: readOnly))
    }

    /// A run's view with job summaries and its map nodes' counts.
    private func runView(_ runId: String) async throws -> FlowRunView? {
        guard let run = try await flows.getFlowRun(runId, jobs: .summary) else { return nil }
        var maps: [String: MapProgress] = [:]
        for node in run.nodes where node.job?.fields["flowMap"] != nil {
            maps[node.id] = try await flows.mapProgress(of: node)
        }
        return FlowRunView(run: run, maps: maps)
    }

    private func drawing(_ view: FlowRunView) -> String {
        let status = view.status?.rawValue ?? "tree"
        return #"<span data-status="\#(status)" hidden></span>"#
            + DAGDrawing.svg(view) { Path.job($0.queue, $0.jobId) }
    }

    static func epochMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
