import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import HTTPTypes
import Tributary

/// The dashboard's HTTP server: `tributary dashboard` runs one, and so does `tributary worker --metrics-port`
/// (with ``Mode-swift.enum/probes``: `/metrics`, `/healthz` and `/readyz` only).
///
/// ```swift
/// let server = try DashboardServer(client: client, configuration: .init(port: 8080))
/// try await server.run { port in print("listening on \(port)") }
/// ```
public struct DashboardServer: Sendable {
    /// What the server serves.
    public enum Mode: Sendable {
        /// Every page and action, plus the probes.
        case dashboard
        /// `/metrics`, `/healthz` and `/readyz` only.
        case probes
    }

    let routes: DashboardRoutes
    let configuration: DashboardConfiguration
    let logger: Logger

    /// - Parameters:
    ///   - client: the Redis connection every page reads through (shared by all requests).
    ///   - configuration: where to listen and what to allow.
    ///   - mode: the whole dashboard or only the probes.
    ///   - logger: where requests that fail are logged.
    /// - Throws: ``DashboardError`` when the configuration is refused (see ``DashboardConfiguration/validate()``).
    public init(client: RedisClient, configuration: DashboardConfiguration, mode: Mode = .dashboard,
                logger: Logger = Logger(label: "tributary.dashboard")) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.routes = DashboardRoutes(client: client, configuration: configuration, mode: mode, logger: logger)
    }

    /// Listens until the task is cancelled (or, with `signals`, until one of them arrives).
    ///
    /// - Parameters:
    ///   - gracefulShutdownSignals: signals that stop the server gracefully (the CLI passes SIGINT and SIGTERM).
    ///   - onListening: called with the bound port once the server accepts connections.
    public func run(gracefulShutdownSignals: [UnixSignal] = [],
                    onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let routes = self.routes
        let application = Application(
            responder: DashboardResponder(routes: routes),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: "tributary"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        await routes.directory.start()
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [application], gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        // Cancelling the task shuts the server down gracefully (open requests finish) instead of tearing it down:
        // the group runs in a task of its own, which the caller's cancellation does not reach.
        let runner = Task { try await group.run() }
        do {
            try await withTaskCancellationHandler {
                try await runner.value
            } onCancel: {
                Task { await group.triggerGracefulShutdown() }
            }
        } catch {
            await routes.directory.stop()
            throw error
        }
        await routes.directory.stop()
    }
}

/// Turns Hummingbird requests into ``DashboardRequest``s and the routes' answers into responses.
struct DashboardResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let routes: DashboardRoutes

    func respond(to request: Request, context: Context) async throws -> Response {
        let method: DashboardRequest.Method
        switch request.method {
        case .get, .head: method = .get
        case .post: method = .post
        default: method = .other
        }
        var body: String?
        if method == .post {
            let buffer = try await request.body.collect(upTo: 1 << 20)
            body = String(buffer: buffer)
        }
        let exchange = DashboardRequest(method: method, path: request.uri.path, query: request.uri.query, body: body,
                                        authorization: request.headers[.authorization], cookie: request.headers[.cookie])
        let answer = await routes.respond(to: exchange)
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
