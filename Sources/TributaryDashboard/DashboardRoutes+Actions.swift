import Tributary

extension DashboardRoutes {
    /// POST routes. Each needs the CSRF token and is refused in read-only mode; destructive ones (remove, clean,
    /// cancel) also need `confirm=yes`, which only their confirmation page sends. Success redirects (303) to the
    /// page of what changed, with a notice.
    func action(_ request: DashboardRequest) async throws -> DashboardResponse {
        if let refusal = actionRefusal(request) { return refusal }
        let segments = request.segments
        let confirmed = request.form["confirm"] == "yes"
        switch (segments.first, segments.count) {
        case ("queues", 5) where segments[2] == "jobs":
            let queue = try await queue(named: segments[1])
            let id = segments[3]
            let page = Path.job(queue.name, id)
            switch segments[4] {
            case "retry":
                let state = try await queue.getState(id)
                guard state == .failed || state == .completed else {
                    return errorPage("job '\(id)' is \(FlowRunView.word(for: state)): only failed or completed jobs can be retried",
                                     status: 409)
                }
                try await queue.retryJob(id, state: state)
                logger.info("dashboard: retried a job", metadata: ["queue": "\(queue.name)", "job": "\(id)"])
                return .redirect(page + URLText.query([("notice", "Job \(id) was retried.")]))
            case "promote":
                try await queue.promoteJob(id)
                logger.info("dashboard: promoted a job", metadata: ["queue": "\(queue.name)", "job": "\(id)"])
                return .redirect(page + URLText.query([("notice", "Job \(id) was promoted.")]))
            case "remove":
                guard confirmed else { return try await confirmRemovePage(queue, id: id) }
                let removed = try await queue.removeJob(id)
                logger.info("dashboard: removed a job", metadata: ["queue": "\(queue.name)", "job": "\(id)"])
                return .redirect(Path.queue(queue.name)
                    + URLText.query([("notice", removed ? "Job \(id) was removed." : "Job \(id) was already gone.")]))
            default: break
            }
        case ("queues", 3):
            let queue = try await queue(named: segments[1])
            let page = Path.queue(queue.name)
            switch segments[2] {
            case "pause":
                try await queue.pause()
                logger.info("dashboard: paused a queue", metadata: ["queue": "\(queue.name)"])
                return .redirect(page + URLText.query([("notice", "The queue is paused.")]))
            case "resume":
                try await queue.resume()
                logger.info("dashboard: resumed a queue", metadata: ["queue": "\(queue.name)"])
                return .redirect(page + URLText.query([("notice", "The queue is running again.")]))
            case "clean":
                let query = request.form
                guard confirmed else { return confirmCleanPage(queue, query: query) }
                let state = query.text("state").flatMap(JobState.init(rawValue:)) ?? .completed
                guard let grace = Int(query.text("grace") ?? "0"), grace >= 0 else {
                    return errorPage("grace must be a whole number of seconds ≥ 0", status: 400)
                }
                let deleted = try await queue.clean(grace: .seconds(grace), limit: 10_000, state: state)
                logger.info("dashboard: cleaned a queue", metadata: ["queue": "\(queue.name)", "state": "\(state.rawValue)",
                                                                     "deleted": "\(deleted.count)"])
                return .redirect(page + URLText.query([("notice", "Deleted \(deleted.count) \(state.rawValue) job(s).")]))
            default: break
            }
        case ("runs", 3):
            let runId = segments[1]
            switch segments[2] {
            case "retry":
                let retry = try await flows.retryFlowRun(runId)
                logger.info("dashboard: retried a flow run", metadata: ["run": "\(runId)"])
                return .redirect(Path.run(runId) + URLText.query([("notice", "The run was retried: \(retry.rerun) node(s) run again, \(retry.kept) kept, \(retry.active) still active.")]))
            case "cancel":
                guard confirmed else { return confirmCancelPage(runId) }
                let cancellation = try await flows.cancelFlowRun(runId)
                logger.info("dashboard: cancelled a flow run", metadata: ["run": "\(runId)"])
                return .redirect(Path.run(runId) + URLText.query([
                    ("notice", "The run was cancelled: \(cancellation.removed) pending node(s) removed, \(cancellation.left) still active."),
                ]))
            default: break
            }
        default: break
        }
        return notFound("no action at \(request.path)")
    }

    /// `GET /runs/ID/cancel`: the confirmation before cancelling a run.
    func confirmCancelPage(_ runId: String) -> DashboardResponse {
        let body = """
            <p class="error">Cancel flow run <b>\(HTML.escape(runId))</b>? Its pending nodes are removed; active ones \
            finish.</p>
            \(HTML.actionForm(Path.run(runId) + "/cancel", label: "Cancel run", csrf: csrfToken,
                              fields: [("confirm", "yes")], danger: true))
            \(HTML.link(Path.run(runId), "Back"))
            """
        return .html(HTML.page(title: "Cancel run \(runId)?", body: body, readOnly: readOnly))
    }
}
