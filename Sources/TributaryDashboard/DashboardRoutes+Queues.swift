import Tributary

extension DashboardRoutes {
    /// The states in the order the pages list them.
    static let states: [JobState] = [.waiting, .prioritized, .delayed, .active, .waitingChildren, .completed, .failed]

    /// `GET /`: every queue with its counts per state and whether it is paused. Reads per queue one pipeline of
    /// nine commands.
    func queuesPage(notice: String?) async throws -> DashboardResponse {
        let names = await directory.names()
        var rows: [[String]] = []
        for name in names {
            let queue = try Queue(name, client: client, prefix: configuration.prefix)
            let counts = try await queue.getJobCounts()
            let paused = try await queue.isPaused()
            var row = [HTML.link(Path.queue(name), name), paused ? "paused" : "running"]
            for state in Self.states {
                let count = state == .waiting ? counts.waiting + counts.paused : counts[state]
                row.append(count == 0 ? #"<span class="muted">0</span>"#
                           : HTML.link(Path.jobs(name, state: state), "\(count)"))
            }
            rows.append(row)
        }
        let body = names.isEmpty
            ? #"<p class="muted">No queue under prefix '\#(HTML.escape(configuration.prefix))' yet.</p>"#
            : HTML.table(["Queue", "Status"] + Self.states.map { FlowRunView.word(for: $0) }, rows, id: "queues")
        return .html(HTML.page(title: "Queues", body: body, notice: notice, readOnly: readOnly))
    }

    /// `GET /queues/Q`: counts, workers, job schedulers, limits and the queue's actions.
    func queuePage(_ queue: Queue, notice: String?) async throws -> DashboardResponse {
        let counts = try await queue.getJobCounts()
        let paused = try await queue.isPaused()
        let limits = try await queue.getLimits()
        let workers = (try? await queue.getWorkers()) ?? []
        let schedulerCount = try await queue.getJobSchedulersCount()
        let schedulers = schedulerCount == 0 ? [] : try await queue.getJobSchedulers(start: 0, end: 19)
        var body = #"<p>Status: <b id="queue-status">\#(paused ? "paused" : "running")</b></p><div class="counts">"#
        for state in Self.states {
            let count = state == .waiting ? counts.waiting + counts.paused : counts[state]
            body += #"<a href="\#(HTML.escape(Path.jobs(queue.name, state: state)))" data-state="\#(state.rawValue)"><b>\#(count)</b>\#(FlowRunView.word(for: state))</a>"#
        }
        body += "</div>"
        if !readOnly {
            body += "<h2>Actions</h2><p>"
            body += paused
                ? HTML.actionForm(Path.queue(queue.name) + "/resume", label: "Resume", csrf: csrfToken)
                : HTML.actionForm(Path.queue(queue.name) + "/pause", label: "Pause", csrf: csrfToken)
            body += HTML.link(Path.queue(queue.name) + "/clean?state=completed", "Clean completed…") + " "
            body += HTML.link(Path.queue(queue.name) + "/clean?state=failed", "Clean failed…") + "</p>"
        }
        body += "<h2>Workers (\(workers.count))</h2>"
        body += workers.isEmpty ? #"<p class="muted">No worker connected.</p>"#
            : HTML.table(["Name", "Address", "Connected for", "Idle for"], workers.map {
                [HTML.escape($0.name ?? "–"), HTML.escape($0.address),
                 HTML.duration(milliseconds: $0.age.milliseconds), HTML.duration(milliseconds: $0.idle.milliseconds)]
            }, id: "workers")
        var limitRows: [[String]] = []
        if let concurrency = limits.concurrency { limitRows.append(["Global concurrency", "\(concurrency)"]) }
        if let rate = limits.rateLimit { limitRows.append(["Rate limit", HTML.escape("\(rate.max) per \(HTML.duration(milliseconds: rate.duration.milliseconds))")]) }
        if let wait = limits.rateLimitedFor { limitRows.append(["Rate-limited for", HTML.duration(milliseconds: wait.milliseconds)]) }
        if !limitRows.isEmpty { body += "<h2>Limits</h2>" + HTML.table(["Limit", "Value"], limitRows, id: "limits") }
        if schedulerCount > 0 {
            body += "<h2>Job schedulers (\(schedulerCount))</h2>"
            body += HTML.table(["Id", "Job name", "Repeat", "Next"], schedulers.map { scheduler in
                let pattern = scheduler.pattern ?? scheduler.every.map { "every " + HTML.duration(milliseconds: $0) } ?? "–"
                return [HTML.escape(scheduler.id), HTML.escape(scheduler.name ?? "–"), HTML.escape(pattern),
                        HTML.time(scheduler.next)]
            }, id: "schedulers")
            if schedulerCount > schedulers.count {
                body += #"<p class="muted">The first \#(schedulers.count) of \#(schedulerCount).</p>"#
            }
        }
        return .html(HTML.page(title: "Queue \(queue.name)", body: body, notice: notice, readOnly: readOnly))
    }

    /// `GET /queues/Q/clean?state=S`: what cleaning would do, and the form that does it.
    func confirmCleanPage(_ queue: Queue, query: FormFields) -> DashboardResponse {
        let state = query.text("state").flatMap(JobState.init(rawValue:)) ?? .completed
        let grace = query.text("grace") ?? "0"
        let body = """
            <p class="error">Delete the \(HTML.escape(FlowRunView.word(for: state))) jobs of queue \
            <b>\(HTML.escape(queue.name))</b> that finished more than \(HTML.escape(grace)) seconds ago? \
            This cannot be undone.</p>
            \(HTML.actionForm(Path.queue(queue.name) + "/clean", label: "Clean", csrf: csrfToken,
                              fields: [("state", state.rawValue), ("grace", grace), ("confirm", "yes")], danger: true))
            \(HTML.link(Path.queue(queue.name), "Cancel"))
            """
        return .html(HTML.page(title: "Clean queue \(queue.name)?", body: body, readOnly: readOnly))
    }
}
