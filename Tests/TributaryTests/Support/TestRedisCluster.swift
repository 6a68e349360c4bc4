import Foundation

/// A private Redis Cluster for a test class: `masters` masters with one replica each, every node a
/// ``TestRedisServer`` on loopback (`cluster-enabled yes`, its own bus port), joined with `redis-cli --cluster
/// create … --cluster-replicas 1` and ready once every node reports `cluster_state:ok` and every replica's link is up.
///
/// `cluster-node-timeout` is 1 s, so a killed master's replica is promoted within a few seconds.
final class TestRedisCluster: Sendable {
    /// Every node, masters first (as given to `--cluster create`, which makes the first ones masters).
    let nodes: [TestRedisServer]

    private init(nodes: [TestRedisServer]) {
        self.nodes = nodes
    }

    /// `redis://127.0.0.1:P1,127.0.0.1:P2,…`: a seed list of every node.
    var url: String { "redis://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// Starts the nodes and forms the cluster; stops everything if that fails.
    static func start(masters: Int = 3) async throws -> TestRedisCluster {
        var nodes: [TestRedisServer] = []
        do {
            for _ in 0..<(masters * 2) {
                let bus = try TestNetwork.freePort()
                nodes.append(try await TestRedisServer.start(.init(unixSocket: false, extraConfig: [
                    "cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
                    "cluster-port \(bus)", "cluster-replica-validity-factor 0", "repl-diskless-sync yes",
                    "repl-diskless-sync-delay 0",
                ])))
            }
            let cluster = TestRedisCluster(nodes: nodes)
            let create = try TestProcess.run(
                "redis-cli",
                ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"],
                timeout: .seconds(60))
            guard create.succeeded else { throw TestRedisServer.Failure.commandFailed(create) }
            try await cluster.waitUntilHealthy()
            return cluster
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    /// Waits (up to 60 s) until every running node says `cluster_state:ok`, knows all 16,384 slots, and every
    /// replica's link to its master is up.
    func waitUntilHealthy(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            var healthy = true
            for node in nodes where node.isRunning {
                let info = (try? node.cli("CLUSTER", "INFO")) ?? ""
                let replication = (try? node.cli("INFO", "replication")) ?? ""
                if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384")
                    || (replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                    healthy = false
                }
            }
            if healthy { return }
            guard ContinuousClock.now < deadline else {
                throw TestRedisServer.Failure.invalidOptions("the test cluster did not become healthy within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The node listening on `port`.
    func node(port: Int) -> TestRedisServer? { nodes.first { $0.port == port } }

    /// The running node that is master of `slot`, as `CLUSTER NODES` of a live node reports it (masters flagged
    /// `fail` are left out).
    func master(ofSlot slot: Int) throws -> TestRedisServer {
        guard let reporter = nodes.first(where: { $0.isRunning }) else {
            throw TestRedisServer.Failure.invalidOptions("no node of the test cluster is running")
        }
        for line in try reporter.cli("CLUSTER", "NODES").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 9, fields[2].contains("master"), !fields[2].contains("fail") else { continue }
            let port = Int(fields[1].split(separator: "@")[0].split(separator: ":").last ?? "") ?? 0
            for range in fields[8...] {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                let owns = bounds.count == 2 ? (bounds[0]...bounds[1]).contains(slot) : bounds.first == slot
                if owns, let server = node(port: port), server.isRunning { return server }
            }
        }
        throw TestRedisServer.Failure.invalidOptions("no live master serves slot \(slot)")
    }

    /// Stops every node.
    func stop() {
        for node in nodes { node.stop() }
    }
}
