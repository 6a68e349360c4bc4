import ArgumentParser
import Foundation
import Logging
import Tributary
import TributaryDashboard

/// `tributary dashboard`: serves the web dashboard until SIGINT or SIGTERM.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve a web dashboard of the queues, jobs and flow runs.",
        discussion: """
            Pages: queues with their counts, jobs of a state (paged, searched by id, name and failure reason), \
            each job, flow runs and their DAGs (live while they run), BullMQ trees. Actions (retry, promote, \
            remove, pause, resume, clean, retry or cancel a run) are POST forms with a CSRF token; destructive \
            ones ask for confirmation; --read-only disables them all.

            It binds 127.0.0.1 by default. Any other address needs --token or --basic-auth: without one it \
            refuses to start. With --token, send `Authorization: Bearer T`, or open http://HOST:PORT/?token=T \
            once in a browser (a cookie keeps it).

            Examples:
              tributary dashboard
              tributary dashboard --port 9000 --read-only
              tributary dashboard --host 0.0.0.0 --token "$DASHBOARD_TOKEN"
              tributary dashboard --host 0.0.0.0 --basic-auth ops:secret --queue emails --queue reports
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Flag(help: "Show everything, change nothing: every action is refused.")
    var readOnly = false

    @Option(help: ArgumentHelp("Require this bearer token (needed to listen on a non-loopback address).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("Require these HTTP basic credentials.", valueName: "user:password"))
    var basicAuth: String?

    @Option(name: [.customShort("q"), .long], help: ArgumentHelp(
        "Show only these queues (repeatable); default: every queue under the prefix.", valueName: "queue"))
    var queue: [String] = []

    @OptionGroup(title: "Readiness (/readyz)") var health: HealthOptions

    func validate() throws {
        if token != nil && basicAuth != nil { throw ValidationError("give --token or --basic-auth, not both") }
        if let basicAuth, !basicAuth.contains(":") { throw ValidationError("--basic-auth takes user:password") }
    }

    var access: DashboardAccess {
        if let token { return .token(token) }
        if let basicAuth, let colon = basicAuth.firstIndex(of: ":") {
            return .basic(user: String(basicAuth[..<colon]), password: String(basicAuth[basicAuth.index(after: colon)...]))
        }
        return .open
    }

    func run() async throws {
        var settings = DashboardConfiguration(host: host, port: port, readOnly: readOnly, access: access,
                                              prefix: connection.prefix, queues: queue)
        settings.health = health.thresholds(minimumWorkers: 0)
        // Refuse an unprotected address before connecting to anything.
        do { try settings.validate() } catch let error as DashboardError {
            throw CLIError(error.message, status: .invalidInput)
        }
        DashboardMetrics.bootstrap()
        let client = try await connection.connect()
        let server = try DashboardServer(client: client, configuration: settings)
        let host = self.host, readOnly = self.readOnly
        do {
            try await server.run(gracefulShutdownSignals: [.sigterm, .sigint]) { port in
                let line = "tributary dashboard: http://\(host.contains(":") ? "[\(host)]" : host):\(port)/"
                    + (readOnly ? " (read-only)" : "") + "\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch {
            await client.close()
            throw CLIError("the dashboard stopped: \(error)", status: .failed)
        }
        await client.close()
    }
}
