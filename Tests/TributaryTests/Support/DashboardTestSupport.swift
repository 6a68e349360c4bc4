import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// An HTTP answer as curl saw it.
struct HTTPReply: CustomStringConvertible {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: String

    var description: String { "HTTP \(status) \(headers)\n\(body.prefix(2000))" }
}

/// A dashboard served in this process on a free port of 127.0.0.1, with curl as its client (a real HTTP
/// exchange over TCP; `--noproxy` because the machine may set a proxy).
struct DashboardUnderTest: Sendable {
    let base: String
    let routes: DashboardRoutes

    var csrf: String { routes.csrfToken }

    /// `GET path`; `headers` are curl `-H` values.
    func get(_ path: String, headers: [String] = []) async throws -> HTTPReply {
        try await Self.curl(["-X", "GET"] + headers.flatMap { ["-H", $0] } + [base + path])
    }

    /// `POST path` with a form body.
    func post(_ path: String, form: [(String, String)], headers: [String] = []) async throws -> HTTPReply {
        let fields = form.flatMap { ["--data-urlencode", "\($0.0)=\($0.1)"] }
        return try await Self.curl(["-X", "POST"] + fields + headers.flatMap { ["-H", $0] } + [base + path])
    }

    /// `POST path` with the page's CSRF token and `fields`.
    func act(_ path: String, _ fields: [(String, String)] = []) async throws -> HTTPReply {
        try await post(path, form: [("csrf", csrf)] + fields)
    }

    /// Runs curl without blocking a thread (the dashboard answers on the same cooperative pool).
    static func curl(_ arguments: [String]) async throws -> HTTPReply {
        let result = try await CLIProcess.run(["-sS", "-i", "--noproxy", "*", "--max-time", "60"] + arguments,
                                              in: NSTemporaryDirectory(), timeout: .seconds(90),
                                              executable: try TestProcess.executablePath("curl"))
        guard result.status == 0 else { throw DashboardTestError("curl failed: \(result)") }
        return try parse(result.stdout)
    }

    static func parse(_ text: String) throws -> HTTPReply {
        guard let split = text.range(of: "\r\n\r\n") else { throw DashboardTestError("no header end in \(text.prefix(500))") }
        let head = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw DashboardTestError("no status line in \(text.prefix(500))")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPReply(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

struct DashboardTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a fresh redis-server, a queue called `queueName`, and a dashboard serving it; stops the
/// dashboard afterwards whatever happens.
func withDashboard(_ queueName: String = "jobs", configure: (inout DashboardConfiguration) -> Void = { _ in },
                   _ body: (DashboardUnderTest, Queue, RedisClient) async throws -> Void) async throws {
    try await withQueue(queueName) { queue, client, _ in
        try await serveDashboard(client: client, configure: configure) { dashboard in
            try await body(dashboard, queue, client)
        }
    }
}

/// Serves a dashboard on `client` while `body` runs.
func serveDashboard(client: RedisClient, configure: (inout DashboardConfiguration) -> Void = { _ in },
                    _ body: (DashboardUnderTest) async throws -> Void) async throws {
    var configuration = DashboardConfiguration(port: 0)
    configure(&configuration)
    let server = try DashboardServer(client: client, configuration: configuration)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let running = Task { try await server.run { continuation.yield($0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else {
        running.cancel()
        throw DashboardTestError("the dashboard did not start")
    }
    let dashboard = DashboardUnderTest(base: "http://127.0.0.1:\(port)", routes: server.routes)
    do {
        try await body(dashboard)
    } catch {
        running.cancel()
        _ = try? await running.value
        throw error
    }
    running.cancel()
    _ = try? await running.value
}
