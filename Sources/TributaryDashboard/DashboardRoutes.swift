import Logging
import Tributary

/// Every route of the dashboard: access checks first, then the page or action.
///
/// | Route | What |
/// |---|---|
/// | `GET /` | queues with their counts |
/// | `GET /queues/Q` | one queue: counts, workers, schedulers, limits, actions |
/// | `GET /queues/Q/jobs?state=S&offset=N&name=…&reason=…&id=…` | jobs of a state, paged and searched |
/// | `GET /queues/Q/jobs/ID` | one job |
/// | `POST /queues/Q/jobs/ID/{retry,promote,remove}` | job actions (remove asks for confirmation) |
/// | `POST /queues/Q/{pause,resume,clean}` | queue actions (clean asks for confirmation) |
/// | `GET /runs?flow=F`, `GET /runs/ID`, `GET /runs/ID/dag` | flow runs, a run's DAG, the DAG alone |
/// | `GET /trees/Q/ID` | a BullMQ tree drawn as a DAG |
/// | `GET /healthz`, `GET /readyz` | liveness and readiness as JSON (``HealthCheck``), without credentials |
/// | `GET /metrics` | Prometheus text: swift-metrics of the process and `bullmq_job_count{queue,state}` |
final class DashboardRoutes: Sendable {
    let client: RedisClient
    let configuration: DashboardConfiguration
    let mode: DashboardServer.Mode
    let logger: Logger
    let directory: QueueDirectory
    let flows: FlowProducer
    /// The CSRF token of this process: every form carries it, every POST must (a page of another site cannot
    /// read it).
    let csrfToken: String

    init(client: RedisClient, configuration: DashboardConfiguration, mode: DashboardServer.Mode, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.mode = mode
        self.logger = logger
        self.directory = QueueDirectory(client: client, prefix: configuration.prefix, queues: configuration.queues,
                                        logger: logger)
        self.flows = FlowProducer(client: client, prefix: configuration.prefix)
        var generator = SystemRandomNumberGenerator()
        csrfToken = (0..<4).map { _ in String(generator.next(), radix: 16) }.joined()
    }

    var readOnly: Bool { configuration.readOnly }

    func respond(to request: DashboardRequest) async -> DashboardResponse {
        // Probes answer without credentials (orchestrators probe without them); they show no job data.
        if request.method == .get, request.segments == ["healthz"] || request.segments == ["readyz"] {
            return await probe(readiness: request.segments == ["readyz"])
        }
        if let refusal = accessRefusal(request) { return refusal }
        if request.method == .get, request.segments == ["metrics"] { return await metrics() }
        guard mode == .dashboard else { return notFound("this server answers /metrics, /healthz and /readyz only") }
        do {
            switch request.method {
            case .get: return try await page(request)
            case .post: return try await action(request)
            case .other: return .text("method not allowed\n", status: 405)
            }
        } catch let error as QueueError {
            return errorPage(error.description, status: error.code == .jobNotFound || error.code == .runNotFound ? 404 : 409)
        } catch {
            logger.warning("dashboard: request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return errorPage("\(error)", status: 500)
        }
    }

    private func page(_ request: DashboardRequest) async throws -> DashboardResponse {
        let segments = request.segments
        let notice = request.query.text("notice")
        switch segments.count {
        case 0: return try await queuesPage(notice: notice)
        case 1 where segments[0] == "favicon.ico":
            return .text(DashboardAssets.icon, contentType: "image/svg+xml")
        case 2 where segments[0] == "assets":
            switch segments[1] {
            case "dashboard.css": return .text(DashboardAssets.stylesheet, contentType: "text/css; charset=utf-8")
            case "dashboard.js": return .text(DashboardAssets.script, contentType: "text/javascript; charset=utf-8")
            case "icon.svg": return .text(DashboardAssets.icon, contentType: "image/svg+xml")
            default: return notFound("no asset \(segments[1])")
            }
        default: break
        }
        switch segments[0] {
        case "queues" where segments.count >= 2:
            let queue = try await queue(named: segments[1])
            switch segments.count {
            case 2: return try await queuePage(queue, notice: notice)
            case 3 where segments[2] == "jobs": return try await jobsPage(queue, query: request.query)
            case 3 where segments[2] == "clean": return confirmCleanPage(queue, query: request.query)
            case 4 where segments[2] == "jobs": return try await jobPage(queue, id: segments[3], notice: notice)
            case 5 where segments[2] == "jobs" && segments[4] == "remove":
                return try await confirmRemovePage(queue, id: segments[3])
            default: break
            }
        case "runs":
            switch segments.count {
            case 1: return try await runsPage(query: request.query)
            case 2: return try await runPage(segments[1], notice: notice)
            case 3 where segments[2] == "dag": return try await runDrawing(segments[1])
            case 3 where segments[2] == "cancel": return confirmCancelPage(segments[1])
            default: break
            }
        case "trees" where segments.count == 3:
            return try await treePage(queue: segments[1], id: segments[2])
        default: break
        }
        return notFound("no page at \(request.path)")
    }

    /// `GET /healthz` (liveness: Redis answers within the timeout) and `GET /readyz` (readiness: Redis version and
    /// `maxmemory-policy`, workers and job-count thresholds of the queues shown): the library's ``HealthCheck``
    /// report as JSON, 200 when healthy and 503 otherwise.
    func probe(readiness: Bool) async -> DashboardResponse {
        let check = HealthCheck(client: client, queues: readiness ? await directory.names() : [],
                                prefix: configuration.prefix, thresholds: configuration.health)
        let report = readiness ? await check.readiness() : await check.liveness()
        return .text(report.json() + "\n", status: report.httpStatus, contentType: "application/json")
    }

    /// `GET /metrics`: Prometheus text (see ``DashboardMetrics``).
    func metrics() async -> DashboardResponse {
        do {
            let text = try await DashboardMetrics.scrape(queues: await directory.names(), client: client,
                                                         prefix: configuration.prefix, registry: DashboardMetrics.registry)
            return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        } catch {
            logger.warning("dashboard: /metrics could not read the job counts", metadata: ["error": "\(error)"])
            return .text("# cannot read the job counts: \(error)\n", status: 503)
        }
    }

    /// A queue handle, for a queue the dashboard shows.
    func queue(named name: String) async throws -> Queue {
        guard await directory.allows(name) else {
            throw QueueError(.jobNotFound, "the dashboard does not show queue '\(name)'")
        }
        return try Queue(name, client: client, prefix: configuration.prefix)
    }

    // MARK: Answers

    func notFound(_ message: String) -> DashboardResponse {
        errorPage(message, status: 404)
    }

    func errorPage(_ message: String, status: Int) -> DashboardResponse {
        .html(HTML.page(title: status == 404 ? "Not found" : "Error \(status)",
                        body: #"<p class="error">\#(HTML.escape(message))</p>"#, readOnly: readOnly), status: status)
    }

    /// Paths of the dashboard's pages.
    enum Path {
        static func queue(_ name: String) -> String { "/queues/\(URLText.encode(name))" }
        static func jobs(_ queue: String, state: JobState, extra: [(String, String?)] = []) -> String {
            "/queues/\(URLText.encode(queue))/jobs" + URLText.query([("state", state.rawValue)] + extra)
        }
        static func job(_ queue: String, _ id: String) -> String {
            "/queues/\(URLText.encode(queue))/jobs/\(URLText.encode(id))"
        }
        static func run(_ id: String) -> String { "/runs/\(URLText.encode(id))" }
        static func tree(_ queue: String, _ id: String) -> String {
            "/trees/\(URLText.encode(queue))/\(URLText.encode(id))"
        }
    }
}
