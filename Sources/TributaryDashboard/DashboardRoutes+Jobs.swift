import Tributary

extension DashboardRoutes {
    /// `GET /queues/Q/jobs?state=S&offset=N&name=…&reason=…&id=…`: one page of a state's jobs, newest first.
    /// `id` opens that job; `name` and `reason` filter, reading at most ``DashboardConfiguration/searchScanLimit``
    /// jobs per page (the page says how far it looked and links to the next stretch).
    func jobsPage(_ queue: Queue, query: FormFields) async throws -> DashboardResponse {
        if let id = query.text("id") {
            if try await queue.getJob(id) != nil { return .redirect(Path.job(queue.name, id)) }
            return errorPage("no job '\(id)' in queue '\(queue.name)'", status: 404)
        }
        let state = query.text("state").flatMap(JobState.init(rawValue:)) ?? .waiting
        guard state != .unknown else { return errorPage("unknown state", status: 400) }
        let offset = max(0, query.text("offset").flatMap { Int($0) } ?? 0)
        let filter = JobFilter(name: query.text("name"), failedReason: query.text("reason"))
        let found = try await queue.searchJobs(state, matching: filter, offset: offset, pageSize: configuration.pageSize,
                                               scanLimit: configuration.searchScanLimit)
        var body = #"<div class="counts">"#
        for other in Self.states {
            let marker = other == state ? " <b>◂</b>" : ""
            body += #"<a href="\#(HTML.escape(Path.jobs(queue.name, state: other)))">\#(FlowRunView.word(for: other))\#(marker)</a>"#
        }
        body += "</div>"
        body += """
            <form method="get" class="filters" action="\(HTML.escape(Path.queue(queue.name)))/jobs">
            <input type="hidden" name="state" value="\(state.rawValue)">
            <input name="id" placeholder="job id" size="10">
            <input name="name" placeholder="name contains" value="\(HTML.escape(filter.name ?? ""))">
            <input name="reason" placeholder="failure reason contains" value="\(HTML.escape(filter.failedReason ?? ""))">
            <button type="submit">Search</button></form>
            """
        let filterQuery: [(String, String?)] = [("name", filter.name), ("reason", filter.failedReason)]
        let rows = found.jobs.map { job -> [String] in
            var row = [HTML.link(Path.job(queue.name, job.id), job.id), HTML.escape(job.name), HTML.time(job.timestamp),
                       "\(job.attemptsMade)"]
            if state == .failed { row.append(HTML.escape(String((job.failedReason ?? "").prefix(160)))) }
            if state == .completed { row.append(HTML.time(job.finishedOn)) }
            return row
        }
        var header = ["Id", "Name", "Added", "Attempts"]
        if state == .failed { header.append("Failure") }
        if state == .completed { header.append("Finished") }
        body += rows.isEmpty ? #"<p class="muted" id="no-jobs">No \#(FlowRunView.word(for: state)) job here.</p>"#
            : HTML.table(header, rows, id: "jobs")
        let first = found.total == 0 ? 0 : offset + 1
        body += #"<p class="muted" id="paging">Looked at jobs \#(first)–\#(offset + found.scanned) of \#(found.total)"#
        body += filter.isEmpty ? "." : "; \(found.jobs.count) matched."
        if offset > 0 {
            let previous = max(0, offset - (filter.isEmpty ? configuration.pageSize : configuration.searchScanLimit))
            body += " " + HTML.link(Path.jobs(queue.name, state: state, extra: filterQuery + [("offset", "\(previous)")]), "◂ newer")
        }
        if let next = found.nextOffset {
            body += " " + HTML.link(Path.jobs(queue.name, state: state, extra: filterQuery + [("offset", "\(next)")]), "older ▸")
        }
        body += "</p>"
        if !readOnly && (state == .failed || state == .completed) && !found.jobs.isEmpty {
            body += "<p>" + HTML.link(Path.queue(queue.name) + "/clean?state=\(state.rawValue)", "Clean \(state.rawValue) jobs…") + "</p>"
        }
        let title = "\(queue.name): \(FlowRunView.word(for: state)) jobs"
        return .html(HTML.page(title: title, body: body, readOnly: readOnly))
    }

    /// `GET /queues/Q/jobs/ID`: everything about one job, with its actions.
    func jobPage(_ queue: Queue, id: String, notice: String?) async throws -> DashboardResponse {
        guard let job = try await queue.getJob(id) else {
            return errorPage("no job '\(id)' in queue '\(queue.name)' (removed, or trimmed by its retention options)",
                             status: 404)
        }
        let state = try await queue.getState(id)
        let logs = try await queue.getJobLogs(id, start: 0, end: 99, ascending: false)
        var facts: [[String]] = [
            ["State", #"<span id="job-state">\#(HTML.state(state))</span>"#],
            ["Name", HTML.escape(job.name)],
            ["Added", HTML.time(job.timestamp)],
            ["Started", HTML.time(job.processedOn)],
            ["Finished", HTML.time(job.finishedOn)],
            ["Attempts", "\(job.attemptsMade) made, \(job.attemptsStarted) started"],
        ]
        if let worker = job.processedBy { facts.append(["Processed by", HTML.escape(worker)]) }
        if let progress = job.progress { facts.append(["Progress", HTML.escape(progress.serialized())]) }
        if let run = job.flowRunId {
            facts.append(["Flow run", HTML.link(Path.run(run), run) + " node " + HTML.escape(job.flowNodeId ?? "?")])
        }
        for parent in job.parents {
            facts.append(["Parent", jobKeyLink(parent.key)])
        }
        facts.append(["Flow", HTML.link(Path.tree(queue.name, id), "draw this job's tree")])
        var body = HTML.table(["", ""], facts, id: "job-facts")
        if !readOnly {
            body += "<p>"
            if state == .failed || state == .completed {
                body += HTML.actionForm(Path.job(queue.name, id) + "/retry", label: "Retry", csrf: csrfToken)
            }
            if state == .delayed {
                body += HTML.actionForm(Path.job(queue.name, id) + "/promote", label: "Promote", csrf: csrfToken)
            }
            body += HTML.link(Path.job(queue.name, id) + "/remove", "Remove…") + "</p>"
        }
        body += "<h2>Data</h2>" + HTML.json(job.data)
        body += "<h2>Options</h2>" + HTML.json(job.fields["opts"].map { (try? JSONValue.parse($0)) ?? .string($0) })
        if let value = job.returnValue { body += "<h2>Result</h2>" + HTML.json(value) }
        if let reason = job.failedReason {
            body += #"<h2>Failure</h2><pre id="failure">\#(HTML.escape(reason))</pre>"#
            if !job.stacktrace.isEmpty {
                body += #"<h2>Stack trace</h2><pre id="stacktrace">\#(HTML.escape(job.stacktrace.joined(separator: "\n---\n")))</pre>"#
            }
        }
        let dependencies = try? await job.dependencies(.first(20), client: client)
        if let dependencies, !dependencies.allChildKeys.isEmpty {
            body += "<h2>Children</h2>" + HTML.table(["Child", "Status"], dependencies.allChildKeys.map { key in
                let status = dependencies.processed[key] != nil ? "completed"
                    : dependencies.failed.contains(key) ? "failed"
                    : dependencies.ignored[key] != nil ? "failed (ignored)" : "pending"
                return [jobKeyLink(key), status]
            }, id: "children")
        }
        body += "<h2>Logs (\(logs.count))</h2>"
        body += logs.logs.isEmpty ? #"<p class="muted">No log lines.</p>"#
            : #"<pre id="logs">\#(HTML.escape(logs.logs.reversed().joined(separator: "\n")))</pre>"#
        if logs.count > logs.logs.count { body += #"<p class="muted">The newest \#(logs.logs.count) lines.</p>"# }
        return .html(HTML.page(title: "Job \(id) in \(queue.name)", body: body, notice: notice, readOnly: readOnly))
    }

    /// `GET /queues/Q/jobs/ID/remove`: the confirmation before removing a job.
    func confirmRemovePage(_ queue: Queue, id: String) async throws -> DashboardResponse {
        let body = """
            <p class="error">Remove job <b>\(HTML.escape(id))</b> of queue <b>\(HTML.escape(queue.name))</b>, \
            with its logs? This cannot be undone.</p>
            \(HTML.actionForm(Path.job(queue.name, id) + "/remove", label: "Remove", csrf: csrfToken,
                              fields: [("confirm", "yes")], danger: true))
            \(HTML.link(Path.job(queue.name, id), "Cancel"))
            """
        return .html(HTML.page(title: "Remove job \(id)?", body: body, readOnly: readOnly))
    }

    /// A link to the job page of a job key `<prefix>:<queue>:<id>`; plain text for a key under another prefix.
    func jobKeyLink(_ key: String) -> String {
        let head = configuration.prefix + ":"
        guard key.hasPrefix(head) else { return HTML.escape(key) }
        let rest = key.dropFirst(head.count)
        guard let colon = rest.firstIndex(of: ":") else { return HTML.escape(key) }
        let queue = String(rest[..<colon]), id = String(rest[rest.index(after: colon)...])
        return HTML.link(Path.job(queue, id), "\(queue):\(id)")
    }
}
