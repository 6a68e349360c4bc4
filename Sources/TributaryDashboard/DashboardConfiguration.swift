import Tributary

/// Who may use the dashboard.
public enum DashboardAccess: Sendable, Equatable {
    /// Anyone who can reach the address (only allowed on a loopback address).
    case open
    /// Requests carry `Authorization: Bearer <token>` (or the cookie a browser gets from `/?token=<token>`).
    case token(String)
    /// Requests carry HTTP basic credentials (the browser asks for them).
    case basic(user: String, password: String)
}

/// How the dashboard (or the worker's metrics server) listens, and what it allows.
public struct DashboardConfiguration: Sendable {
    /// The address to bind, `127.0.0.1` by default.
    public var host: String
    /// The port to bind; 0 lets the system choose (see ``DashboardServer/run(onListening:)``).
    public var port: Int
    /// Whether actions (retry, remove, pause, clean…) are refused.
    public var readOnly: Bool
    /// Who may use it.
    public var access: DashboardAccess
    /// The key prefix of the queues shown.
    public var prefix: String
    /// The queues to show; empty: every queue found under the prefix (see ``QueueDirectory``).
    public var queues: [String]
    /// How many jobs a jobs page lists.
    public var pageSize: Int
    /// The most jobs one search request looks at (see ``Queue/searchJobs(_:matching:offset:pageSize:scanLimit:)``).
    public var searchScanLimit: Int
    /// What `/healthz` and `/readyz` check (``HealthCheck``): by default no worker is required (a dashboard only
    /// looks); the worker's metrics port requires one per queue.
    public var health: HealthThresholds

    /// - Parameters:
    ///   - host: the address to bind.
    ///   - port: the port to bind (0: any free port).
    ///   - readOnly: refuse every action.
    ///   - access: who may use the dashboard.
    ///   - prefix: the key prefix of the queues.
    ///   - queues: the queues to show (empty: all found under the prefix).
    public init(host: String = "127.0.0.1", port: Int = 8080, readOnly: Bool = false, access: DashboardAccess = .open,
                prefix: String = "bull", queues: [String] = []) {
        self.host = host
        self.port = port
        self.readOnly = readOnly
        self.access = access
        self.prefix = prefix
        self.queues = queues
        self.pageSize = 50
        self.searchScanLimit = 5000
        self.health = HealthThresholds(minimumWorkers: 0)
    }

    /// Whether `host` is a loopback address (`127.x.x.x`, `::1`, `localhost`).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Checks the configuration before anything listens.
    ///
    /// - Throws: ``DashboardError`` `unprotectedAddress` when a non-loopback address is bound without a token or
    ///   basic-auth credentials; `invalidOption` for an empty token, user or password, or a port outside 0...65535.
    public func validate() throws {
        guard (0...65_535).contains(port) else {
            throw DashboardError(.invalidOption, "the port must be in 0...65535 (got \(port))")
        }
        switch access {
        case .open:
            guard Self.isLoopback(host) else {
                throw DashboardError(.unprotectedAddress, "refusing to listen on \(host) without protection: anyone "
                    + "who reaches it could retry, remove and clean jobs. Pass --token T or --basic-auth user:pass, "
                    + "or bind 127.0.0.1")
            }
        case .token(let token):
            guard !token.isEmpty else { throw DashboardError(.invalidOption, "the token must not be empty") }
        case .basic(let user, let password):
            guard !user.isEmpty, !password.isEmpty, !user.contains(":") else {
                throw DashboardError(.invalidOption, "basic-auth needs user:password, both non-empty, the user without ':'")
            }
        }
    }
}

/// A dashboard that cannot start or cannot do what was asked.
public struct DashboardError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// A non-loopback address without a token or credentials.
        public static let unprotectedAddress = Code(name: "unprotectedAddress")
        /// An option that makes no sense.
        public static let invalidOption = Code(name: "invalidOption")
    }

    /// What went wrong.
    public let code: Code
    /// What to do about it.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
