import Foundation

/// A private Redis Cluster for a test class: `masters` masters with one replica each, every node a
/// ``TestRedisServer`` on loopback (`cluster-enabled yes`, its own bus port), joined with `redis-cli --cluster
/// create … --cluster-replicas 1` and ready once every node reports `cluster_state:ok` and every replica's link is up.
///
/// `cluster-node-timeout` is 1 s, so a killed master's replica is promoted within a few seconds.
final class TestRedisCluster: Sendable {
    /// Every node, masters first (as given to `--cluster create`, which makes the first ones masters).
    let nodes: [TestRedisServer]

    /// The certificates every node of a TLS cluster uses (nil for a plain one).
    let certificates: TestCertificates?

    private init(nodes: [TestRedisServer], certificates: TestCertificates? = nil) {
        self.nodes = nodes
        self.certificates = certificates
    }

    /// `redis://127.0.0.1:P1,127.0.0.1:P2,…`: a seed list of every node; for a TLS cluster
    /// `rediss://127.0.0.1:T1,…?ca=CA` with the nodes' TLS ports.
    var url: String {
        guard let certificates else {
            return "redis://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        }
        return "rediss://" + nodes.map { "127.0.0.1:\($0.tlsPort)" }.joined(separator: ",") + "?ca=\(certificates.caFile)"
    }

    /// Starts the nodes and forms the cluster; stops everything if that fails. With `tls`, every node also has a TLS
    /// port with one shared set of certificates (the client certificate also authenticates the nodes to each
    /// other), and the cluster bus and replication use TLS (`tls-cluster yes`, `tls-replication yes`), so the nodes
    /// announce their TLS ports.
    static func start(masters: Int = 3, replicas: Int = 1, tls: Bool = false) async throws -> TestRedisCluster {
        var nodes: [TestRedisServer] = []
        let shared = tls ? try TestCertificates.generate(in: try TestRedisServer.makeTemporaryDirectory()) : nil
        do {
            for _ in 0..<(masters * (1 + replicas)) {
                let bus = try TestNetwork.freePort()
                var config = [
                    "cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
                    "cluster-port \(bus)", "cluster-replica-validity-factor 0", "repl-diskless-sync yes",
                    "repl-diskless-sync-delay 0",
                ]
                if let shared {
                    let quote = TestRedisServer.quote
                    config += [
                        "tls-cluster yes", "tls-replication yes",
                        "tls-cert-file \(quote(shared.serverCertFile))", "tls-key-file \(quote(shared.serverKeyFile))",
                        "tls-client-cert-file \(quote(shared.clientCertFile))", "tls-client-key-file \(quote(shared.clientKeyFile))",
                        "tls-ca-cert-file \(quote(shared.caFile))",
                    ]
                }
                nodes.append(try await TestRedisServer.start(.init(unixSocket: false, tls: tls, extraConfig: config)))
            }
            let cluster = TestRedisCluster(nodes: nodes, certificates: shared)
            var create = ["--cluster", "create"]
            if let shared {
                create = ["--tls", "--cacert", shared.caFile] + create + nodes.map { "127.0.0.1:\($0.tlsPort)" }
            } else {
                create += nodes.map { "127.0.0.1:\($0.port)" }
            }
            let created = try TestProcess.run(
                "redis-cli", create + ["--cluster-replicas", String(replicas), "--cluster-yes"], timeout: .seconds(60))
            guard created.succeeded else { throw TestRedisServer.Failure.commandFailed(created) }
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
        if let certificates {
            try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: certificates.caFile).deletingLastPathComponent().path)
        }
    }
}
