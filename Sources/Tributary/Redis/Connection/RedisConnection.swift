import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One connection to a Redis server, with no reconnect logic: when it closes, it stays closed.
///
/// Many tasks may send over it at once; their commands are pipelined and each reply goes back to its caller.
/// ``RedisClient`` builds on this type to add reconnects, blocking-command connections and scripts.
public final class RedisConnection: Sendable {
    let channel: any Channel
    /// A short label for logs, e.g. `127.0.0.1:6379` or `/tmp/redis.sock`.
    public let label: String
    /// How long a reply may take by default (``RedisConfiguration/commandTimeout``); `nil` waits forever.
    public let commandTimeout: Duration?

    private init(channel: any Channel, label: String, commandTimeout: Duration?) {
        self.channel = channel
        self.label = label
        self.commandTimeout = commandTimeout
    }

    /// Opens a connection, runs the TLS handshake if configured, then AUTH, SELECT and CLIENT SETNAME (or a PING),
    /// all within ``RedisConfiguration/connectTimeout``.
    ///
    /// - Throws: ``RedisClientError`` with code `connectFailed`, `tlsConfiguration` or `authenticationFailed`.
    public static func connect(
        configuration: RedisConfiguration,
        tlsContext: NIOSSLContext? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tributary.redis")
    ) async throws -> RedisConnection {
        let sslContext: NIOSSLContext?
        if let tlsContext {
            sslContext = tlsContext
        } else if let tls = configuration.tls {
            sslContext = try tls.makeContext()
        } else {
            sslContext = nil
        }
        let serverHostname = configuration.tlsServerHostname
        let label = configuration.endpoint.description
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let tlsHandler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tlsHandler)
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(endpoint: label))
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisClientError(.connectFailed, "Could not connect to Redis at \(label)", underlying: error)
        }
        let connection = RedisConnection(channel: channel, label: label, commandTimeout: configuration.commandTimeout)
        do {
            // The handshake gets what is left of the connect timeout: a server that accepts connections and never
            // answers fails here, naming the endpoint, instead of hanging the caller.
            let left = max(deadline - ContinuousClock.now, .milliseconds(1))
            try await connection.handshake(configuration, timeout: left)
        } catch {
            connection.close()
            throw error
        }
        logger.debug("connected to Redis", metadata: ["redis.endpoint": "\(label)"])
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration, timeout: Duration) async throws {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", .string(username), .string(password)))
            } else {
                commands.append(RedisCommand("AUTH", .string(password)))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", .integer(Int64(configuration.database))))
        }
        if let name = configuration.clientName {
            commands.append(RedisCommand("CLIENT", "SETNAME", .string(name)))
        }
        guard !commands.isEmpty else {
            // Still prove the server speaks RESP (and that the TLS handshake went through) before handing it out.
            do {
                let reply = try await send(RedisCommand("PING"), timeout: timeout).get()
                if case .error(let error) = reply { throw error }
            } catch let error as RedisServerError where error.code == "NOAUTH" {
                throw RedisClientError(
                    .authenticationFailed, "Redis at \(label) requires a password: put it in the URL (redis://:PASSWORD@host)",
                    underlying: error)
            } catch let error as RedisServerError {
                throw RedisClientError(.connectFailed, "PING failed on Redis at \(label): \(error.message)", underlying: error)
            } catch let error as RedisClientError {
                throw RedisClientError(.connectFailed, "Could not connect to Redis at \(label)", underlying: error)
            }
            return
        }
        let replies: [RESPValue]
        do {
            replies = try await pipeline(commands, timeout: timeout).get()
        } catch {
            throw RedisClientError(.connectFailed, "Could not connect to Redis at \(label)", underlying: error)
        }
        for (command, reply) in zip(commands, replies) {
            guard case .error(let error) = reply else { continue }
            if command.name == "AUTH" {
                throw RedisClientError(
                    .authenticationFailed,
                    "Redis at \(label) rejected the credentials of user '\(configuration.username ?? "default")': \(error.message)",
                    underlying: error)
            }
            throw RedisClientError(.connectFailed, "\(command.name) failed on Redis at \(label): \(error.message)", underlying: error)
        }
    }

    /// Whether the channel is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends one command; the future holds the raw reply (error replies included, as ``RESPValue/error(_:)``).
    ///
    /// The reply may take ``commandTimeout`` (a blocking command: its own timeout plus that); after it, the
    /// connection is closed and the future fails with `timedOut`.
    public func send(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        send(command, timeout: timeout(for: command))
    }

    /// Sends one command whose reply may take `timeout` (`nil`: forever); see ``send(_:)``.
    public func send(_ command: RedisCommand, timeout: Duration?) -> EventLoopFuture<RESPValue> {
        var payload = channel.allocator.buffer(capacity: 64)
        command.encode(into: &payload)
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        write(RedisRequest(payload: payload, reply: .single(promise), timeout: timeout.map { TimeAmount($0) }))
        return promise.futureResult
    }

    /// The reply timeout of `command`: ``commandTimeout``, plus the command's own timeout when it blocks; `nil`
    /// (forever) when it blocks without a timeout or no command timeout is set.
    func timeout(for command: RedisCommand) -> Duration? {
        guard let commandTimeout else { return nil }
        guard command.isBlocking else { return commandTimeout }
        return command.blockingTimeout.map { $0 + commandTimeout }
    }

    /// Sends one command and throws ``RedisServerError`` when the server answers with an error.
    public func sendChecked(_ command: RedisCommand) async throws -> RESPValue {
        let reply = try await send(command).get()
        if case .error(let error) = reply { throw error }
        return reply
    }

    /// Writes several commands back to back in one buffer, so no other caller's command can come between them,
    /// and delivers their raw replies together, in order.
    ///
    /// The last reply may take ``commandTimeout`` after the write (or `timeout`, when given).
    public func pipeline(_ commands: [RedisCommand]) -> EventLoopFuture<[RESPValue]> {
        pipeline(commands, timeout: commandTimeout)
    }

    /// ``pipeline(_:)`` whose replies may take `timeout` (`nil`: forever).
    public func pipeline(_ commands: [RedisCommand], timeout: Duration?) -> EventLoopFuture<[RESPValue]> {
        guard !commands.isEmpty else { return channel.eventLoop.makeSucceededFuture([]) }
        var payload = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { command.encode(into: &payload) }
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        write(RedisRequest(payload: payload, reply: .batch(count: commands.count, promise), timeout: timeout.map { TimeAmount($0) }))
        return promise.futureResult
    }

    private func write(_ request: RedisRequest) {
        // If the channel is already closed, the write never reaches the handler: fail the reply from here.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [label] error in
            request.fail(RedisClientError(
                .connectionClosed, "The connection to Redis at \(label) was already closed; the command was not sent",
                underlying: error, commandWasNotSent: true))
        }
        channel.write(request, promise: written)
    }

    /// A future that completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Closes the connection; commands in flight fail with `connectionClosed`.
    public func close() {
        channel.close(promise: nil)
    }
}
