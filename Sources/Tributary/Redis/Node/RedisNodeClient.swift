import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The client of one Redis server (standalone, or one node of a cluster): a pipelined connection shared by every
/// task, reconnecting with backoff, plus dedicated connections for blocking commands.
///
/// Any number of tasks may call ``send(_:)`` at once: their commands are written back to back on one connection
/// and every reply is handed to the task that sent its command. Blocking commands (BZPOPMIN, BLPOP, XREAD BLOCK…)
/// are sent on connections of their own so they never hold up other commands.
///
/// When the connection drops, commands in flight fail at once with ``RedisClientError/Code-swift.struct/connectionClosed``
/// and the client reconnects in the background (see ``RedisConfiguration/ReconnectPolicy``). Meanwhile new calls
/// fail fast or wait, per ``RedisConfiguration/disconnectedBehavior``. ``RedisClient`` uses one of these for a
/// standalone server, and one per master for a cluster.
final class RedisNodeClient: Sendable {
    /// The configuration this client was created with.
    let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let tlsContext: NIOSSLContext?
    private let state: NIOLockedValueBox<State>

    private struct Waiter {
        let continuation: CheckedContinuation<RedisConnection, any Error>
    }

    private enum State {
        case connected(RedisConnection)
        case reconnecting(attempt: Int, lastError: (any Error)?, waiters: [UInt64: Waiter], task: Task<Void, Never>?)
        /// Dropped, and reconnecting is disabled.
        case disconnected
        case closed
    }

    private struct Shared {
        var nextWaiterID: UInt64 = 0
        var blockingIdle: [RedisConnection] = []
        var blockingAll: [ObjectIdentifier: RedisConnection] = [:]
    }

    private let shared = NIOLockedValueBox(Shared())
    /// The scripts loaded through this client, so concurrent first uses share one SCRIPT LOAD.
    let scriptLoads = ScriptLoads()

    private init(configuration: RedisConfiguration, tlsContext: NIOSSLContext?, connection: RedisConnection,
                 eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = NIOLockedValueBox(.connected(connection))
    }

    /// Connects to Redis and returns a ready client; the first connection must succeed.
    ///
    /// - Throws: ``RedisClientError`` (`connectFailed`, `authenticationFailed`, `tlsConfiguration`).
    static func connect(
        _ configuration: RedisConfiguration, tlsContext: NIOSSLContext?, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) async throws -> RedisNodeClient {
        let connection = try await RedisConnection.connect(
            configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger)
        return adopting(connection, configuration: configuration, tlsContext: tlsContext,
                        eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// A client built on a connection already open to `configuration`'s endpoint.
    static func adopting(
        _ connection: RedisConnection, configuration: RedisConfiguration, tlsContext: NIOSSLContext?,
        eventLoopGroup: any EventLoopGroup, logger: Logger
    ) -> RedisNodeClient {
        let client = RedisNodeClient(configuration: configuration, tlsContext: tlsContext, connection: connection,
                                     eventLoopGroup: eventLoopGroup, logger: logger)
        client.watch(connection)
        return client
    }

    // MARK: Sending

    /// Sends a command and returns its reply.
    ///
    /// - Throws: ``RedisServerError`` when the server answers with an error; ``RedisClientError`` when the
    ///   connection is down (`disconnected`), drops while waiting (`connectionClosed`), or the client is closed.
    @discardableResult
    func send(_ command: RedisCommand) async throws -> RESPValue {
        if command.isBlocking { return try await sendBlocking(command) }
        let reply = try await onCurrentConnection { $0.send(command) }
        if case .error(let error) = reply { throw error }
        return reply
    }

    /// Sends commands back to back and returns every raw reply in order; error replies stay in the array as
    /// ``RESPValue/error(_:)`` so the caller can see which command failed.
    ///
    /// - Throws: the first `NOPERM` or `NOAUTH` reply as ``RedisServerError``: a missing permission is never data
    ///   (read as "no such key", it would make a user's lack of rights look like an empty queue).
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let replies = try await onCurrentConnection { $0.pipeline(commands) }
        for reply in replies {
            if case .error(let error) = reply, error.code == "NOPERM" || error.code == "NOAUTH" { throw error }
        }
        return replies
    }

    /// Runs `operation` on the current connection. A command that never left because the connection had just
    /// closed is sent again on the next connection when the client waits for reconnects; it cannot run twice.
    private func onCurrentConnection<Reply: Sendable>(
        _ operation: (RedisConnection) -> EventLoopFuture<Reply>
    ) async throws -> Reply {
        while true {
            let connection = try await currentConnection()
            do {
                return try await operation(connection).get()
            } catch let error as RedisClientError
                where error.commandWasNotSent && configuration.disconnectedBehavior == .waitForReconnect {
                // Don't wait for the close notification to arrive: mark the connection dropped now.
                connectionDropped(connection)
            }
        }
    }

    /// Whether the main connection is up right now.
    var isConnected: Bool {
        state.withLockedValue { if case .connected(let connection) = $0 { return connection.isActive } else { return false } }
    }

    /// The connection to use now, per the disconnected behaviour.
    func currentConnection() async throws -> RedisConnection {
        let immediate: Result<RedisConnection, any Error>? = state.withLockedValue { state in
            switch state {
            case .connected(let connection): return .success(connection)
            case .closed: return .failure(Self.closedError)
            case .disconnected:
                return .failure(RedisClientError(.disconnected, "The connection to Redis at \(configuration.endpoint) was lost and reconnecting is disabled"))
            case .reconnecting(let attempt, let lastError, _, _):
                guard configuration.disconnectedBehavior == .failFast else { return nil }
                return .failure(RedisClientError(
                    .disconnected,
                    "Redis at \(configuration.endpoint) is unreachable (reconnecting, attempt \(attempt))", underlying: lastError))
            }
        }
        if let immediate { return try immediate.get() }
        return try await waitForConnection()
    }

    private func waitForConnection() async throws -> RedisConnection {
        let id = shared.withLockedValue { shared -> UInt64 in
            shared.nextWaiterID += 1
            return shared.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisConnection, any Error>) in
                let outcome: Result<RedisConnection, any Error>? = state.withLockedValue { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    switch state {
                    case .connected(let connection): return .success(connection)
                    case .closed: return .failure(Self.closedError)
                    case .disconnected: return .failure(RedisClientError(.disconnected, "The connection to Redis was lost and reconnecting is disabled"))
                    case .reconnecting(let attempt, let lastError, var waiters, let task):
                        waiters[id] = Waiter(continuation: continuation)
                        state = .reconnecting(attempt: attempt, lastError: lastError, waiters: waiters, task: task)
                        return nil
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLockedValue { state in
                guard case .reconnecting(let attempt, let lastError, var waiters, let task) = state,
                      let waiter = waiters.removeValue(forKey: id) else { return nil }
                state = .reconnecting(attempt: attempt, lastError: lastError, waiters: waiters, task: task)
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private static var closedError: RedisClientError {
        RedisClientError(.clientClosed, "The Redis client was closed")
    }

    // MARK: Reconnecting

    private func watch(_ connection: RedisConnection) {
        connection.closeFuture.whenComplete { [weak self] _ in
            self?.connectionDropped(connection)
        }
    }

    private func connectionDropped(_ connection: RedisConnection) {
        let startLoop: Bool? = state.withLockedValue { state in
            guard case .connected(let current) = state, current === connection else { return nil }
            if configuration.reconnect.enabled {
                state = .reconnecting(attempt: 0, lastError: nil, waiters: [:], task: nil)
                return true
            }
            state = .disconnected
            return false
        }
        guard let startLoop else { return }  // already handled, or the client was closed
        logger.warning("lost the connection to Redis", metadata: [
            "redis.endpoint": "\(configuration.endpoint)", "redis.reconnect": "\(startLoop)",
        ])
        guard startLoop else { return }
        let task = Task { [weak self] in
            guard let self else { return }
            await self.reconnectLoop()
        }
        state.withLockedValue { state in
            if case .reconnecting(let attempt, let lastError, let waiters, nil) = state {
                state = .reconnecting(attempt: attempt, lastError: lastError, waiters: waiters, task: task)
            }
        }
    }

    private func reconnectLoop() async {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            try? await Task.sleep(for: configuration.reconnect.delay(forAttempt: attempt))
            if Task.isCancelled { return }
            do {
                let connection = try await RedisConnection.connect(
                    configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger)
                let waiters: [Waiter]? = state.withLockedValue { state in
                    guard case .reconnecting(_, _, let waiters, _) = state else { return nil }
                    state = .connected(connection)
                    return Array(waiters.values)
                }
                guard let waiters else {
                    connection.close()  // closed meanwhile
                    return
                }
                watch(connection)
                logger.info("reconnected to Redis", metadata: [
                    "redis.endpoint": "\(configuration.endpoint)", "redis.attempts": "\(attempt)",
                ])
                for waiter in waiters { waiter.continuation.resume(returning: connection) }
                return
            } catch {
                logger.warning("reconnecting to Redis failed", metadata: [
                    "redis.endpoint": "\(configuration.endpoint)", "redis.attempt": "\(attempt)", "error": "\(error)",
                ])
                let stillReconnecting = state.withLockedValue { state -> Bool in
                    guard case .reconnecting(_, _, let waiters, let task) = state else { return false }
                    state = .reconnecting(attempt: attempt, lastError: error, waiters: waiters, task: task)
                    return true
                }
                if !stillReconnecting { return }  // closed meanwhile
            }
        }
    }

    // MARK: Blocking commands

    private func sendBlocking(_ command: RedisCommand) async throws -> RESPValue {
        let reply = try await sendBlocking([command])[0]
        if case .error(let error) = reply { throw error }
        return reply
    }

    /// Sends commands back to back on a connection of their own, the first of them a blocking one, and returns
    /// every raw reply in order (error replies stay in the array). Redis reads the commands after a blocked one only
    /// once it returns, so the rest run the moment the block ends, with no round trip between. Cancelling the task
    /// drops the connection, the only way to interrupt a blocked command.
    func sendBlocking(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let connection = try await leaseBlockingConnection()
        let replies: [RESPValue]
        do {
            replies = try await withTaskCancellationHandler {
                // The commands behind the block wait as long as it may: each gets the blocking command's timeout.
                let timeout = commands.first.flatMap { connection.timeout(for: $0) }
                let pending = commands.map { connection.send($0, timeout: timeout) }
                var replies: [RESPValue] = []
                replies.reserveCapacity(pending.count)
                for reply in pending { replies.append(try await reply.get()) }
                return replies
            } onCancel: {
                connection.close()
            }
        } catch {
            discardBlocking(connection)
            throw error
        }
        returnBlocking(connection)
        return replies
    }

    private func leaseBlockingConnection() async throws -> RedisConnection {
        while let idle = shared.withLockedValue({ $0.blockingIdle.popLast() }) {
            if idle.isActive { return idle }
            discardBlocking(idle)
        }
        // Respect the disconnected behaviour: fail fast, or wait for the main connection to come back first.
        _ = try await currentConnection()
        let connection = try await RedisConnection.connect(
            configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger)
        let accepted = shared.withLockedValue { shared -> Bool in
            guard !isClosedUnlocked else { return false }
            shared.blockingAll[ObjectIdentifier(connection)] = connection
            return true
        }
        guard accepted else {
            connection.close()
            throw Self.closedError
        }
        return connection
    }

    private var isClosedUnlocked: Bool {
        state.withLockedValue { if case .closed = $0 { return true } else { return false } }
    }

    private func returnBlocking(_ connection: RedisConnection) {
        let keep = shared.withLockedValue { shared -> Bool in
            guard connection.isActive, shared.blockingIdle.count < 8, !isClosedUnlocked else { return false }
            shared.blockingIdle.append(connection)
            return true
        }
        if !keep { discardBlocking(connection) }
    }

    private func discardBlocking(_ connection: RedisConnection) {
        shared.withLockedValue { _ = $0.blockingAll.removeValue(forKey: ObjectIdentifier(connection)) }
        connection.close()
    }

    // MARK: Closing

    /// Closes every connection of this client. Commands in flight fail; later calls throw `clientClosed`.
    func close() async {
        let (connection, waiters, task): (RedisConnection?, [Waiter], Task<Void, Never>?) = state.withLockedValue { state in
            defer { state = .closed }
            switch state {
            case .connected(let connection): return (connection, [], nil)
            case .reconnecting(_, _, let waiters, let task): return (nil, Array(waiters.values), task)
            case .disconnected, .closed: return (nil, [], nil)
            }
        }
        task?.cancel()
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        let blocking = shared.withLockedValue { shared -> [RedisConnection] in
            defer { shared.blockingAll = [:]; shared.blockingIdle = [] }
            return Array(shared.blockingAll.values)
        }
        for other in blocking { other.close() }
        if let connection {
            connection.close()
            try? await connection.closeFuture.get()
        }
    }
}
