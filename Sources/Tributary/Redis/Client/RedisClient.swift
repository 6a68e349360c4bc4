import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Tributary's Redis client: the one type that Queue, Worker, FlowProducer, QueueEvents and the CLI talk to,
/// whether Redis is one server or a Redis Cluster.
///
/// ```swift
/// let client = try await RedisClient.connect(url: "redis://127.0.0.1:6379/0")
/// try await client.send(RedisCommand("SET", "greeting", "hello"))
/// let value = try await client.send(RedisCommand("GET", "greeting")).string   // "hello"
/// await client.close()
/// ```
///
/// ``connect(_:eventLoopGroup:logger:)`` reaches the first address that answers (the URL's, then its seeds) and
/// asks it `INFO cluster`:
/// - a single server gets one pipelined connection shared by every task, reconnecting with backoff, plus
///   dedicated connections for blocking commands (BZPOPMIN, BLPOP, XREAD BLOCK…);
/// - a cluster node makes this a cluster client: it loads the slot map (CLUSTER SLOTS) and sends every command,
///   script and transaction to the master that owns its keys' hash slot (see ``HashSlot``), with one such
///   single-server client per master. It follows MOVED (and reloads the map) and ASK, splits pipelines per node
///   and puts the replies back in order, and rides out a failover: a command that was not sent is sent to the
///   promoted replica once the cluster names it.
///
/// Any number of tasks may call ``send(_:)`` at once. When a connection drops, commands in flight on it fail at
/// once with ``RedisClientError/Code-swift.struct/connectionClosed`` (they may have run), and new calls fail fast
/// or wait, per ``RedisConfiguration/disconnectedBehavior``.
public final class RedisClient: Sendable {
    /// The configuration this client was created with.
    public let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    /// What serves the commands: one server, or a cluster of them.
    enum Backend: Sendable {
        case node(RedisNodeClient)
        case cluster(RedisClusterClient)
    }

    let backend: Backend

    private init(configuration: RedisConfiguration, backend: Backend, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.backend = backend
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Connects to Redis and returns a ready client. The URL's address is tried first, then each of
    /// ``RedisConfiguration/seeds``; one of them must answer.
    ///
    /// - Throws: ``RedisClientError`` (`connectFailed`, `authenticationFailed`, `tlsConfiguration`, or
    ///   `clusterUnavailable` when a cluster node cannot give its slot map).
    public static func connect(
        _ configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tributary.redis")
    ) async throws -> RedisClient {
        let tlsContext = try configuration.tls?.makeContext()
        var firstError: (any Error)?
        for endpoint in [configuration.endpoint] + configuration.seeds {
            var single = configuration
            single.endpoint = endpoint
            let connection: RedisConnection
            do {
                connection = try await RedisConnection.connect(
                    configuration: single, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger)
            } catch let error as RedisClientError where error.code == .connectFailed && !configuration.seeds.isEmpty {
                logger.warning("a seed of the Redis URL is unreachable; trying the next", metadata: [
                    "redis.endpoint": "\(endpoint)", "error": "\(error)",
                ])
                firstError = firstError ?? error
                continue
            }
            let backend: Backend
            if let slots = try await clusterSlots(on: connection) {
                connection.close()
                backend = .cluster(try RedisClusterClient(
                    configuration: configuration, slots: slots, askedNode: endpoint, tlsContext: tlsContext,
                    eventLoopGroup: eventLoopGroup, logger: logger))
                logger.debug("Redis is a cluster", metadata: ["redis.endpoint": "\(endpoint)"])
            } else {
                backend = .node(RedisNodeClient.adopting(
                    connection, configuration: single, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup, logger: logger))
            }
            return RedisClient(configuration: configuration, backend: backend, eventLoopGroup: eventLoopGroup, logger: logger)
        }
        throw RedisClientError(
            .connectFailed,
            "Could not connect to any address of the Redis URL (\(([configuration.endpoint] + configuration.seeds).map(\.description).joined(separator: ", ")))",
            underlying: firstError)
    }

    /// `CLUSTER SLOTS` of the server behind `connection` when `INFO cluster` says it is a cluster node; `nil` for a
    /// single server (or one that does not let this user read `INFO`).
    private static func clusterSlots(on connection: RedisConnection) async throws -> RESPValue? {
        let info: String
        do {
            info = try await connection.sendChecked(RedisCommand("INFO", "cluster")).string ?? ""
        } catch is RedisServerError {
            return nil
        }
        guard info.contains("cluster_enabled:1") else { return nil }
        do {
            return try await connection.sendChecked(RedisCommand("CLUSTER", "SLOTS"))
        } catch {
            connection.close()
            throw RedisClientError(
                .clusterUnavailable, "Redis at \(connection.label) is a cluster node but did not give its slot map (CLUSTER SLOTS)",
                underlying: error)
        }
    }

    /// Connects to the Redis server named by a URL (see ``RedisConfiguration`` for the forms).
    public static func connect(
        url: String,
        disconnectedBehavior: RedisConfiguration.DisconnectedBehavior = .failFast,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tributary.redis")
    ) async throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.disconnectedBehavior = disconnectedBehavior
        return try await connect(configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// Whether this client talks to a Redis Cluster (where a queue's keys, and a flow's queues, must share one hash
    /// slot: see ``HashSlot``).
    public var isCluster: Bool {
        if case .cluster = backend { return true } else { return false }
    }

    // MARK: Sending

    /// Sends a command and returns its reply. On a cluster it goes to the master that owns its keys' slot.
    ///
    /// - Throws: ``RedisServerError`` when the server answers with an error; ``RedisClientError`` when the
    ///   connection is down (`disconnected`), drops while waiting (`connectionClosed`), or the client is closed;
    ///   on a cluster also `crossSlot` (nothing sent) and `clusterUnavailable`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        switch backend {
        case .node(let node): return try await node.send(command)
        case .cluster(let cluster): return try await cluster.send(command)
        }
    }

    /// Sends commands back to back and returns every raw reply in order; error replies stay in the array as
    /// ``RESPValue/error(_:)`` so the caller can see which command failed. On a cluster the commands are grouped
    /// by node, each group is one pipeline, and the replies are put back in the order of `commands`.
    ///
    /// - Throws: the first `NOPERM` or `NOAUTH` reply as ``RedisServerError``: a missing permission is never data
    ///   (read as "no such key", it would make a user's lack of rights look like an empty queue).
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        switch backend {
        case .node(let node): return try await node.pipeline(commands)
        case .cluster(let cluster): return try await cluster.pipeline(commands)
        }
    }

    /// Writes `commands` as one uninterrupted pipeline on one server (on a cluster: the owner of their common slot)
    /// and returns the raw replies; for MULTI/EXEC.
    func pipelineOnOneServer(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        switch backend {
        case .node(let node): return try await node.pipeline(commands)
        case .cluster(let cluster): return try await cluster.pipelineTogether(commands)
        }
    }

    /// Sends commands back to back on a connection of their own, the first a blocking one, and returns every raw
    /// reply in order; the rest run the moment the block ends (see the worker's fetch). On a cluster they go to the
    /// owner of their common slot.
    func sendBlocking(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        switch backend {
        case .node(let node): return try await node.sendBlocking(commands)
        case .cluster(let cluster): return try await cluster.sendBlocking(commands)
        }
    }

    /// Sends `command` to every master (one server: to it) and returns their replies: for commands about a whole
    /// server, such as `CLIENT LIST` or `INFO`.
    public func sendToEachMaster(_ command: RedisCommand) async throws -> [RESPValue] {
        switch backend {
        case .node(let node): return [try await node.send(command)]
        case .cluster(let cluster): return try await cluster.sendToEachMaster(command)
        }
    }

    /// Walks the keys matching a glob `pattern` with SCAN, handing each page of keys to `page`. On a cluster only
    /// the owner of the pattern's hash slot is scanned when the pattern's literal start holds a hash tag
    /// (`{tributary}:orders:*`); otherwise every master is.
    public func scan(matching pattern: String, count: Int = 1000,
                     _ page: ([String]) async throws -> Void) async throws {
        let command = { (cursor: String) in
            RedisCommand("SCAN", .string(cursor), "MATCH", .string(pattern), "COUNT", .integer(Int64(count)))
        }
        let servers: [@Sendable (RedisCommand) async throws -> RESPValue]
        switch backend {
        case .node(let node): servers = [{ try await node.send($0) }]
        case .cluster(let cluster): servers = try await cluster.scanTargets(for: command("0"))
        }
        for send in servers {
            var cursor = "0"
            repeat {
                let reply = try await send(command(cursor))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                    throw RedisClientError(.unexpectedReply, "SCAN returned \(reply)")
                }
                cursor = next
                try await page(parts[1].array?.compactMap(\.string) ?? [])
            } while cursor != "0"
        }
    }

    /// Whether the connections are up right now (on a cluster: to every master this client has used).
    public var isConnected: Bool {
        switch backend {
        case .node(let node): return node.isConnected
        case .cluster(let cluster): return cluster.isConnected
        }
    }

    /// Closes every connection of this client. Commands in flight fail; later calls throw `clientClosed`.
    public func close() async {
        switch backend {
        case .node(let node): await node.close()
        case .cluster(let cluster): await cluster.close()
        }
    }
}
