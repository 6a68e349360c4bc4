import NIOCore
import NIOSSL

/// Where and how to connect to Redis, and how to behave when the connection drops.
///
/// Usually made from a URL:
/// - `redis://[user:password@]host[:port][/db]`
/// - `redis://[user:password@]host1:port1,host2:port2,…`: several addresses of one Redis Cluster (a seed list),
///   tried in order at start, so that one node being down does not stop the client (see ``seeds``)
/// - `rediss://…` for TLS (hostname verification on); TLS files as query items:
///   `?ca=/path/ca.crt&cert=/path/client.crt&key=/path/client.key&verify_hostname=false`
/// - `unix:///path/redis.sock?db=N` or `redis+unix:///path/redis.sock?db=N` (also `password=`, `user=`)
/// - `name=…` as a query item on any of them sets `CLIENT SETNAME`.
/// - `connect_timeout=…` and `command_timeout=…` set ``connectTimeout`` and ``commandTimeout``: seconds, or a
///   number with `ms`, `s` or `m` (`500ms`, `2m`); `command_timeout=0` waits forever.
public struct RedisConfiguration: Sendable {
    /// A server address.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// A host name or IP address and a port.
        case tcp(host: String, port: Int)
        /// The path of a unix domain socket.
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): return path
            }
        }
    }

    /// What calls do while the connection is down and being re-established.
    public enum DisconnectedBehavior: Sendable, Hashable {
        /// Fail at once with ``RedisClientError/Code-swift.struct/disconnected``: right for producers (`Queue`),
        /// which should not hide an outage behind an offline queue.
        case failFast
        /// Wait until the connection is back: right for workers, which should ride out an outage.
        case waitForReconnect
    }

    /// Reconnect timing: the delay before retry `n` (from 1) is `e^n` milliseconds, clamped between
    /// ``minimumDelay`` and ``maximumDelay``, as BullMQ does (1 s to 20 s by default).
    public struct ReconnectPolicy: Sendable, Hashable {
        /// Whether to reconnect at all after a connection drops.
        public var enabled: Bool
        /// The shortest wait before a retry.
        public var minimumDelay: Duration
        /// The longest wait between retries.
        public var maximumDelay: Duration

        /// Creates a policy; the defaults match BullMQ's (1 s minimum, 20 s maximum).
        public init(enabled: Bool = true, minimumDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(20)) {
            self.enabled = enabled
            self.minimumDelay = minimumDelay
            self.maximumDelay = maximumDelay
        }

        /// The wait before retry number `attempt` (1-based).
        public func delay(forAttempt attempt: Int) -> Duration {
            let exponential = Double.minimum(1e9, _exp(Double(attempt)))  // milliseconds
            let proposed = Duration.milliseconds(Int64(exponential))
            return max(minimumDelay, min(proposed, maximumDelay))
        }
    }

    /// TLS settings for `rediss://`.
    public struct TLS: Sendable, Hashable {
        /// PEM file of the certificate authorities to trust; the system's trust store when `nil`.
        public var caFile: String?
        /// PEM client certificate, for servers that require one (`tls-auth-clients yes`).
        public var certificateFile: String?
        /// PEM private key of the client certificate.
        public var keyFile: String?
        /// Whether the server certificate must match the host name. On by default; turn off only for tests.
        public var verifyHostname: Bool
        /// The name sent for SNI and checked against the certificate; the URL's host when `nil`.
        public var serverName: String?

        /// Creates TLS settings.
        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                    verifyHostname: Bool = true, serverName: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyHostname = verifyHostname
            self.serverName = serverName
        }

        /// Loads the files and builds a NIOSSL client context.
        public func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
            do {
                if let caFile {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                }
                if let certificateFile {
                    configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                }
                if let keyFile {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
                }
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw RedisClientError(
                    .tlsConfiguration,
                    "Could not load the TLS files (ca: \(caFile ?? "system"), cert: \(certificateFile ?? "none"), key: \(keyFile ?? "none"))",
                    underlying: error)
            }
        }
    }

    /// The server's address.
    public var endpoint: Endpoint
    /// More addresses of the same deployment (a Redis Cluster's other nodes), tried in order when ``endpoint``
    /// cannot be reached at start, and asked for the slot map when the known nodes cannot. Empty by default.
    public var seeds: [Endpoint] = []
    /// The ACL user name; `nil` for the `default` user.
    public var username: String?
    /// The password; no AUTH is sent when `nil`.
    public var password: String?
    /// The database number to SELECT.
    public var database: Int
    /// TLS settings; plain TCP when `nil`.
    public var tls: TLS?
    /// The name given with CLIENT SETNAME (no spaces), shown by CLIENT LIST.
    public var clientName: String?
    /// How long a connection attempt may take: TCP connect, TLS handshake, AUTH/SELECT/CLIENT SETNAME (or a PING)
    /// together. 10 s by default.
    public var connectTimeout: Duration
    /// How long a reply may take once a command is written; `nil` waits forever. 30 s by default. A blocking
    /// command (BZPOPMIN, BLPOP, XREAD BLOCK…) gets its own timeout plus this; one that blocks forever (timeout 0)
    /// waits forever. When a reply is late, the connection is closed, every command in flight on it fails with
    /// ``RedisClientError/Code-swift.struct/timedOut``, and the client reconnects: a server that accepts
    /// connections and never answers (stopped with SIGSTOP, hung, behind a black-holed route) cannot hang callers.
    public var commandTimeout: Duration?
    /// When and how to reconnect.
    public var reconnect: ReconnectPolicy
    /// What calls do while disconnected.
    public var disconnectedBehavior: DisconnectedBehavior

    /// Creates a configuration from its parts.
    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379),
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        tls: TLS? = nil,
        clientName: String? = nil,
        connectTimeout: Duration = .seconds(10),
        commandTimeout: Duration? = .seconds(30),
        reconnect: ReconnectPolicy = .init(),
        disconnectedBehavior: DisconnectedBehavior = .failFast
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.clientName = clientName
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnect = reconnect
        self.disconnectedBehavior = disconnectedBehavior
    }

    /// The host name used for SNI and certificate checks; `nil` for IP addresses and unix sockets.
    var tlsServerHostname: String? {
        if let serverName = tls?.serverName { return serverName }
        guard case .tcp(let host, _) = endpoint else { return nil }
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return isIPv4 || host.contains(":") ? nil : host
    }
}

extension TimeAmount {
    /// Converts a Swift `Duration` to NIO's `TimeAmount` (nanosecond precision).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#elseif canImport(Musl)
import Musl
private func _exp(_ x: Double) -> Double { Musl.exp(x) }
#else
import Darwin
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
