/// An error reply sent by the Redis server, such as `WRONGTYPE Operation against a key holding the wrong kind
/// of value` or `NOSCRIPT No matching script`.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole message the server sent, without the leading `-`.
    public let message: String

    /// Creates an error from the server's message.
    public init(message: String) {
        self.message = message
    }

    /// The error's first word, which Redis uses as a code: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `NOAUTH`, `WRONGPASS`…
    public var code: String {
        String(message.prefix { $0 != " " })
    }

    public var description: String { "Redis server error: \(message)" }
}

/// An error raised by Tributary's Redis client itself (as opposed to an error reply from the server).
///
/// Compare ``code`` against the static members of ``RedisClientError/Code`` to react to a specific failure.
public struct RedisClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a form a program can branch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The URL could not be parsed or names an unsupported scheme or option.
        public static let invalidURL = Code("invalidURL")
        /// The client is disconnected and is configured to fail fast instead of waiting for a reconnect.
        public static let disconnected = Code("disconnected")
        /// The connection closed while this command was in flight; it may or may not have run on the server.
        public static let connectionClosed = Code("connectionClosed")
        /// The server did not answer in time (``RedisConfiguration/commandTimeout``): it is stopped, paused,
        /// overloaded or unreachable. The connection was closed; the command may or may not have run.
        public static let timedOut = Code("timedOut")
        /// Connecting (TCP, unix socket or TLS handshake) failed.
        public static let connectFailed = Code("connectFailed")
        /// AUTH was rejected by the server.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The server sent bytes that are not valid RESP, or nested deeper than the reader supports; the
        /// connection was closed.
        public static let protocolError = Code("protocolError")
        /// A MULTI/EXEC transaction was aborted or one of its commands failed.
        public static let transactionFailed = Code("transactionFailed")
        /// The reply had a shape the caller did not expect.
        public static let unexpectedReply = Code("unexpectedReply")
        /// The server does not meet Tributary's requirements (for example its version is below 6.2).
        public static let unsupportedServer = Code("unsupportedServer")
        /// The client was closed by the program.
        public static let clientClosed = Code("clientClosed")
        /// TLS configuration (CA file, certificate or key) could not be loaded.
        public static let tlsConfiguration = Code("tlsConfiguration")
        /// On a Redis Cluster: the keys of one command, script or transaction hash to different slots, so no node
        /// can run it. Nothing was sent.
        public static let crossSlot = Code("crossSlot")
        /// On a Redis Cluster: no node could be reached for a slot, or the cluster kept redirecting (MOVED, ASK,
        /// TRYAGAIN, CLUSTERDOWN) without settling; the message says which.
        public static let clusterUnavailable = Code("clusterUnavailable")
    }

    /// What went wrong.
    public let code: Code
    /// A message a person can act on.
    public let message: String
    /// The error underneath, when there is one (a NIO or TLS error, or a ``RedisServerError``).
    public let underlying: (any Error)?
    /// For `connectionClosed`: `true` when the command surely never reached the server (the connection was
    /// already closed when it was written), so sending it again cannot run it twice.
    public let commandWasNotSent: Bool

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, commandWasNotSent: Bool = false) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.commandWasNotSent = commandWasNotSent
    }

    public var description: String {
        if let underlying { return "\(message) (\(underlying))" }
        return message
    }
}
