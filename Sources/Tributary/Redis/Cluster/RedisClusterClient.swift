import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The client of a Redis Cluster: a slot map, one ``RedisNodeClient`` per master it has needed, and the routing
/// of each command to the master that owns its keys' slot. ``RedisClient`` uses it when the server it reaches says
/// `cluster_enabled:1`.
///
/// Node clients fail fast; this type decides what to do when a master is unreachable: it reloads the slot map
/// from another node and sends the command (which was not sent) to whichever master the cluster names, at once
/// for a client that fails fast, and until it succeeds (with the reconnect delays) for one that waits for
/// reconnects, which is how workers ride out a failover. Credentials, TLS and timeouts are the URL's, on every
/// node.
final class RedisClusterClient: Sendable {
    typealias Endpoint = RedisConfiguration.Endpoint

    /// The configuration given; each node's is this with its own endpoint.
    let configuration: RedisConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let tlsContext: NIOSSLContext?

    private struct State {
        var topology: ClusterTopology
        var nodes: [Endpoint: Task<RedisNodeClient, any Error>] = [:]
        /// The node clients whose connect finished, of the tasks in `nodes`.
        var ready: [Endpoint: RedisNodeClient] = [:]
        var reload: Task<Void, Never>?
        var closed = false
    }

    private let state: NIOLockedValueBox<State>

    /// A cluster client from the `CLUSTER SLOTS` reply of `askedNode`.
    init(configuration: RedisConfiguration, slots: RESPValue, askedNode: Endpoint, tlsContext: NIOSSLContext?,
         eventLoopGroup: any EventLoopGroup, logger: Logger) throws {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        let topology = try ClusterTopology(slotsReply: slots, askedNode: askedNode)
        if topology.coveredSlots < HashSlot.count {
            logger.warning("the Redis Cluster does not serve every slot", metadata: [
                "redis.endpoint": "\(askedNode)", "redis.slots": "\(topology.coveredSlots)",
            ])
        }
        self.state = NIOLockedValueBox(State(topology: topology))
    }

    // MARK: Nodes

    /// The configuration of one node: the URL's credentials, TLS and timeouts, failing fast when it is down.
    private func nodeConfiguration(_ endpoint: Endpoint) -> RedisConfiguration {
        var node = configuration
        node.endpoint = endpoint
        node.seeds = []
        node.disconnectedBehavior = .failFast
        return node
    }

    /// The client of the node at `endpoint`, connecting to it on first use (concurrent first uses share one
    /// connect).
    func node(_ endpoint: Endpoint) async throws -> RedisNodeClient {
        let task: Task<RedisNodeClient, any Error>? = state.withLockedValue { state in
            guard !state.closed else { return nil }
            if let task = state.nodes[endpoint] { return task }
            let configuration = nodeConfiguration(endpoint)
            let task = Task { [tlsContext, eventLoopGroup, logger] in
                try await RedisNodeClient.connect(configuration, tlsContext: tlsContext,
                                                  eventLoopGroup: eventLoopGroup, logger: logger)
            }
            state.nodes[endpoint] = task
            return task
        }
        guard let task else { throw RedisClientError(.clientClosed, "The Redis client was closed") }
        do {
            let client = try await task.value
            state.withLockedValue { state in
                if state.nodes[endpoint] == task { state.ready[endpoint] = client }
            }
            return client
        } catch {
            state.withLockedValue { state in
                if state.nodes[endpoint] == task { state.nodes[endpoint] = nil }
            }
            throw error
        }
    }

    /// The master that owns `slot` (for a command without keys: the first master).
    func owner(of slot: Int?) throws -> Endpoint {
        let owner: Endpoint? = state.withLockedValue { state in
            guard let slot else { return state.topology.masters.first }
            return state.topology.owner(of: slot)
        }
        guard let owner else {
            throw RedisClientError(
                .clusterUnavailable, "No node of the Redis Cluster serves slot \(slot.map(String.init) ?? "any") (CLUSTER SLOTS leaves it out)")
        }
        return owner
    }

    /// The masters of the current slot map.
    var masters: [Endpoint] { state.withLockedValue { $0.topology.masters } }

    /// Records a MOVED redirect at once (the full map is reloaded in the background).
    func learn(slot: Int, movedTo master: Endpoint) {
        state.withLockedValue { $0.topology.assign(slot, to: master) }
        startReload()
    }

    // MARK: Reloading the slot map

    /// Reloads the slot map now (sharing a reload already under way), from the first node that answers:
    /// masters, replicas, then the URL's addresses; `avoiding` (a node that just failed) is asked last.
    func reload(avoiding failed: Endpoint? = nil) async {
        await startReload(avoiding: failed).value
    }

    @discardableResult
    private func startReload(avoiding failed: Endpoint? = nil) -> Task<Void, Never> {
        state.withLockedValue { state in
            if let reload = state.reload { return reload }
            let reload = Task { [weak self] in
                guard let self else { return }
                await self.reloadOnce(avoiding: failed)
                self.state.withLockedValue { $0.reload = nil }
            }
            state.reload = reload
            return reload
        }
    }

    private func reloadOnce(avoiding failed: Endpoint?) async {
        let known = state.withLockedValue { $0.topology.allNodes }
        var candidates: [Endpoint] = []
        for endpoint in known + [configuration.endpoint] + configuration.seeds where !candidates.contains(endpoint) {
            candidates.append(endpoint)
        }
        if let failed, let index = candidates.firstIndex(of: failed) {
            candidates.append(candidates.remove(at: index))
        }
        for endpoint in candidates {
            do {
                let reply = try await node(endpoint).send(RedisCommand("CLUSTER", "SLOTS"))
                let topology = try ClusterTopology(slotsReply: reply, askedNode: endpoint)
                guard topology.coveredSlots > 0 else { continue }
                let dropped: [Task<RedisNodeClient, any Error>] = state.withLockedValue { state in
                    state.topology = topology
                    let stale = state.nodes.keys.filter { !topology.masters.contains($0) }
                    for endpoint in stale { state.ready[endpoint] = nil }
                    return stale.compactMap { state.nodes.removeValue(forKey: $0) }
                }
                for task in dropped {
                    Task { await (try? await task.value)?.close() }
                }
                logger.debug("reloaded the Redis Cluster slot map", metadata: [
                    "redis.endpoint": "\(endpoint)", "redis.masters": "\(topology.masters.map(\.description).joined(separator: ","))",
                ])
                return
            } catch {
                logger.debug("could not read the slot map from a cluster node", metadata: [
                    "redis.endpoint": "\(endpoint)", "error": "\(error)",
                ])
            }
        }
        logger.warning("no node of the Redis Cluster gave its slot map", metadata: [
            "redis.nodes": "\(candidates.map(\.description).joined(separator: ","))",
        ])
    }

    // MARK: State

    /// Whether every node client in use is connected.
    var isConnected: Bool {
        state.withLockedValue { state in
            !state.closed && !state.ready.isEmpty && state.ready.values.allSatisfy(\.isConnected)
        }
    }

    /// SCRIPT LOADs sent to the nodes in use.
    var scriptLoadCount: Int {
        state.withLockedValue { $0.ready.values.reduce(0) { $0 + $1.scriptLoads.count } }
    }

    /// Closes every node client; later calls throw `clientClosed`.
    func close() async {
        let (tasks, reload) = state.withLockedValue { state -> ([Task<RedisNodeClient, any Error>], Task<Void, Never>?) in
            state.closed = true
            defer { state.nodes = [:]; state.ready = [:]; state.reload = nil }
            return (Array(state.nodes.values), state.reload)
        }
        reload?.cancel()
        for task in tasks {
            await (try? await task.value)?.close()
        }
    }
}
