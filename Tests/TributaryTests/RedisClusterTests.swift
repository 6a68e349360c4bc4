import Foundation
import Synchronization
import Testing
@testable import Tributary

/// One 3-master, 3-replica cluster shared by the tests of ``RedisClusterTests`` (started once, on first use;
/// its processes die with the test process through their watchdogs).
enum SharedTestCluster {
    private static let starting = Mutex<Task<TestRedisCluster, any Error>?>(nil)

    static func get() async throws -> TestRedisCluster {
        let task = starting.withLock { task in
            if let task { return task }
            let started = Task { try await TestRedisCluster.start() }
            task = started
            return started
        }
        return try await task.value
    }
}

/// A cluster client that waits through outages, as workers' clients do.
func clusterClient(_ url: String, behavior: RedisConfiguration.DisconnectedBehavior = .waitForReconnect) async throws -> RedisClient {
    var configuration = try RedisConfiguration(url: url)
    configuration.disconnectedBehavior = behavior
    configuration.reconnect = .init(minimumDelay: .milliseconds(200), maximumDelay: .seconds(2))
    return try await RedisClient.connect(configuration)
}

@Suite("Redis Cluster", .serialized)
struct RedisClusterTests {
    @Test("a seed list whose first address is down still connects; commands and pipelines go to the owner of their slot")
    func routing() async throws {
        let cluster = try await SharedTestCluster.get()
        let dead = try TestNetwork.freePort()
        let client = try await clusterClient("redis://127.0.0.1:\(dead)," + cluster.url.dropFirst("redis://".count))
        defer { Task { await client.close() } }
        #expect(client.isCluster)
        let keys = (0..<200).map { "routing:\($0)" }
        let set = try await client.pipeline(keys.map { RedisCommand("SET", .string($0), .string("v-" + $0)) })
        #expect(set.allSatisfy { $0.string == "OK" })
        let read = try await client.pipeline(keys.map { RedisCommand("GET", .string($0)) })
        #expect(read.map(\.string) == keys.map { "v-" + $0 })
        // The keys really are spread: each master holds some of them, and only those of its slots.
        var onMasters = 0
        for node in cluster.nodes where (try node.cli("INFO", "replication")).contains("role:master") {
            let held = keys.filter { (try? node.cli("CLUSTER", "COUNTKEYSINSLOT", String(HashSlot.of($0)))) != "0" }
            #expect(!held.isEmpty)
            for key in held { #expect(try node.cli("CLUSTER", "KEYSLOT", key) == String(HashSlot.of(key))) }
            onMasters += 1
        }
        #expect(onMasters == 3)
        #expect(try await client.send(RedisCommand("GET", "routing:7")).string == "v-routing:7")
    }

    @Test("hash slots match the server's CLUSTER KEYSLOT, hash tags included")
    func hashSlots() async throws {
        let cluster = try await SharedTestCluster.get()
        for key in ["", "a", "foo", "{user1000}.following", "{tributary}:orders:wait", "x{}y", "{}{a}", "a{b}{c}", "é{ü}"] {
            #expect(try cluster.nodes[0].cli("CLUSTER", "KEYSLOT", key) == String(HashSlot.of(key)), "key \(key)")
        }
        #expect(HashSlot.fixedSlot(forKeysStartingWith: "{tributary}:orders:") == HashSlot.of("tributary"))
        #expect(HashSlot.fixedSlot(forKeysStartingWith: "bull:orders:") == nil)
        #expect(HashSlot.fixedSlot(forKeysStartingWith: "bull:{orders") == nil)
        #expect(try RedisCommand("SCAN", "0", "MATCH", "{core}:mail:*").hashSlot() == HashSlot.of("core"))
        #expect(try RedisCommand("SCAN", "0", "MATCH", "bull:*").hashSlot() == nil)
        #expect(RedisCommand("XREAD", "BLOCK", "10", "STREAMS", "s1", "s2", "0", "0").keys == ["s1", "s2"])
        #expect(RedisCommand("BZPOPMIN", "m1", "m2", .double(1.5)).keys == ["m1", "m2"])
        #expect(QueueScripts.getStates.script.command(keys: [], arguments: ["x"]).routed(by: "{r}:run").keys == ["{r}:run"])
        #expect(throws: RedisClientError.self) { try RedisCommand("MGET", "a", "b").hashSlot() }
    }

    @Test("ASK during a slot migration and MOVED after it are followed; the client's slot map catches up")
    func redirects() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let slot = HashSlot.of("{migrating}")
        let source = try cluster.master(ofSlot: slot)
        let target = try #require(cluster.nodes.first { $0.port != source.port && (try? $0.cli("INFO", "replication"))?.contains("role:master") == true })
        let sourceID = try source.cli("CLUSTER", "MYID"), targetID = try target.cli("CLUSTER", "MYID")
        try await client.send(RedisCommand("SET", "{migrating}:old", "1"))
        _ = try target.cli("CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID)
        _ = try source.cli("CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID)
        // A key the source does not hold goes to the target, with ASKING.
        try await client.send(RedisCommand("SET", "{migrating}:new", "2"))
        #expect(try target.cli("CLUSTER", "COUNTKEYSINSLOT", String(slot)) == "1")
        #expect(try await client.send(RedisCommand("GET", "{migrating}:old")).string == "1")
        _ = try source.cli("MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", "{migrating}:old")
        for node in cluster.nodes where (try node.cli("INFO", "replication")).contains("role:master") {
            _ = try node.cli("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)
        }
        // The client still thinks the source owns the slot: MOVED sends it to the target.
        #expect(try await client.send(RedisCommand("GET", "{migrating}:old")).string == "1")
        #expect(try await client.pipeline([RedisCommand("GET", "{migrating}:new"), RedisCommand("GET", "{migrating}:old")]).map(\.string) == ["2", "1"])
        try await cluster.waitUntilHealthy()
    }

    @Test("transactions run on one node; keys in different slots are refused before anything is sent")
    func transactions() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let replies = try await client.transaction([RedisCommand("SET", "{tx}:a", "1"), RedisCommand("INCR", "{tx}:b")])
        #expect(replies == [.simpleString("OK"), .integer(1)])
        let error = await #expect(throws: RedisClientError.self) {
            try await client.transaction([RedisCommand("SET", "tx-a", "1"), RedisCommand("SET", "tx-b", "1")])
        }
        #expect(error?.code == .crossSlot)
        #expect(error?.message.contains("slot \(HashSlot.of("tx-a"))") == true)
        #expect(try await client.send(RedisCommand("EXISTS", "tx-a")).int == 0)
        // Keyless commands work; commands about each server reach every master.
        #expect(try await client.send(RedisCommand("PING")).string == "PONG")
        #expect(try await client.sendToEachMaster(RedisCommand("PING")).count == 3)
    }

    @Test("scripts load on each node that runs them, again after SCRIPT FLUSH on one")
    func scriptsPerNode() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let script = RedisScript(source: "return redis.call('INCR', KEYS[1])")
        let keys = ["{s1}:n", "{s2}:n", "{s3}:n", "{s4}:n", "{s5}:n", "{s6}:n"]
        for key in keys { #expect(try await client.run(script, keys: [key]).int == 1) }
        let owners = Set(keys.map { HashSlot.of($0) }.compactMap { try? cluster.master(ofSlot: $0).port })
        #expect(client.scriptLoadCount == owners.count)
        let flushed = try cluster.master(ofSlot: HashSlot.of(keys[0]))
        _ = try flushed.cli("SCRIPT", "FLUSH")
        #expect(try await client.run(script, keys: [keys[0]]).int == 2)
        #expect(client.scriptLoadCount == owners.count + 1)
    }

    @Test("a queue whose keys would span slots, and a flow whose queues would, are refused naming the slots; nothing is stored")
    func slotRules() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let queueError = #expect(throws: QueueError.self) { try Queue("orders", client: client) }
        #expect(queueError?.code == .crossSlot)
        #expect(queueError?.message.contains("slot \(HashSlot.of("bull:orders:wait"))") == true)
        #expect(queueError?.message.contains("'{bull}'") == true)
        // A hash tag in the queue name or the prefix makes a queue fine.
        _ = try Queue("{orders}", client: client)
        _ = try Queue("orders", client: client, prefix: "{shop}")
        // A tree over queues tagged apart: refused before anything is sent.
        let flows = FlowProducer(client: client, prefix: "bull")
        let error = await #expect(throws: QueueError.self) {
            try await flows.add(FlowJob("parent", queue: "{a}parents", children: [FlowJob("child", queue: "{b}children")]))
        }
        #expect(error?.code == .crossSlot)
        #expect(error?.message.contains("queue '{a}parents' in slot \(HashSlot.of("a"))") == true)
        #expect(error?.message.contains("queue '{b}children' in slot \(HashSlot.of("b"))") == true)
        for node in cluster.nodes {
            #expect(try node.cli("--scan", "--pattern", "*parents*") == "" && node.cli("--scan", "--pattern", "*children*") == "")
        }
        #expect(ClusterSlots.flowProblem(flow: "f", prefix: "{shop}", queues: ["a", "b"]) == nil)
        #expect(ClusterSlots.flowProblem(flow: "f", prefix: "shop", queues: ["{shop}a"])?.contains("its records") == true)
    }

    @Test("queue core cases on the cluster: plain, delayed and prioritized jobs, a worker, counts, names, obliterate")
    func queueCore() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let prefix = "{core}"
        let queue = try Queue("mail", client: client, prefix: prefix)
        let plain = try await queue.add("plain", data: ["n": 1])
        let delayed = try await queue.add("later", data: ["n": 2], options: .init(delay: .milliseconds(300)))
        let urgent = try await queue.add("urgent", data: ["n": 3], options: .init(priority: 1))
        #expect(try await queue.getJobCounts()[.waiting] == 1)
        let seen = Mutex<[String]>([])
        let worker = try Worker(queue: "mail", client: client, prefix: prefix, options: .init(concurrency: 1)) { job in
            seen.withLock { $0.append(job.name) }
            return .int(job.data["n"]?.intValue ?? 0)
        }
        try await withWorkers([worker]) { () async throws in
            #expect(try await queue.waitUntilFinished(delayed.id) == 2)
            #expect(try await queue.waitUntilFinished(plain.id) == 1)
            #expect(try await queue.waitUntilFinished(urgent.id) == 3)
        }
        #expect(Set(seen.withLock { $0 }) == ["plain", "later", "urgent"])
        #expect(try await queue.getJobCounts()[.completed] == 3)
        #expect(try await Queue.names(client: client, prefix: prefix) == ["mail"])
        try await queue.obliterate()
        #expect(try await Queue.names(client: client, prefix: prefix) == [])
    }

    @Test("a diamond run and a fan-in of 1,000 complete on the cluster")
    func flows() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let prefix = "{flows}"
        let flows = FlowProducer(client: client, prefix: prefix)
        let dag = try Queue("dag", client: client, prefix: prefix)
        try await flows.submit(try compiledFlow(FlowRunTests.diamond), runId: "d1")
        let children = (0..<1000).map { "\"c\($0)\": {\"queue\": \"leaves\", \"data\": {\"value\": \"\($0)\"}}" }
        let needs = (0..<1000).map { "\"c\($0)\"" }.joined(separator: ",")
        try await flows.submit(try compiledFlow("""
            {"flow": "fan", "queue": "dag", "nodes": {\(children.joined(separator: ",")), "sum": {"needs": [\(needs)]}}}
            """), runId: "f")
        let joining = try Worker(queue: "dag", client: client, prefix: prefix, options: .init(concurrency: 8)) { job in
            if job.flowNodeId == "sum" {
                return .int(job.inputs.values.compactMap { $0.stringValue.flatMap { Int64($0) } }.reduce(0, +))
            }
            let me = job.flowNodeId ?? job.name
            if job.inputs.isEmpty { return .string(me) }
            return .string("\(me)(\(job.inputs.keys.sorted().map { job.inputs[$0]?.stringValue ?? "?" }.joined(separator: ",")))")
        }
        let leaves = try Worker(queue: "leaves", client: client, prefix: prefix, options: .init(concurrency: 50)) { job in
            job.data["value"] ?? .null
        }
        try await withWorkers([joining, leaves]) { () async throws in
            #expect(try await dag.waitUntilFinished("d1.join") == "join(left(source),right(source))")
            #expect(try await dag.waitUntilFinished("f.sum") == .int(999 * 1000 / 2))
        }
        #expect(try await flows.getFlowRun("d1")?.status == .completed)
        #expect(try await flows.getFlowRun("f")?.status == .completed)
        #expect(try await flows.listFlowRuns().count == 2)
    }

    @Test("a map over 300 items, with tolerated failures and a redrive, completes on the cluster")
    func mapFlows() async throws {
        let cluster = try await SharedTestCluster.get()
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let prefix = "{maps}"
        let flows = FlowProducer(client: client, prefix: prefix)
        let queue = try Queue("m", client: client, prefix: prefix)
        let items = JSONValue.array((0..<300).map { .int(Int64($0)) })
        let tolerant = #"{"items": "list.files", "toleratedFailures": 2, "maxConcurrency": 40}"#
        try await flows.submit(try compiledFlow(mapFlow(tolerant)), runId: "ok")
        try await flows.submit(try compiledFlow(mapFlow(#"{"items": "list.files"}"#)), runId: "bad")
        let first = ItemCounter()
        let failing = try Worker(queue: "m", client: client, prefix: prefix, options: .init(concurrency: 20),
                                 handler: mapHandler(items: items, failing: [7, 200], seenItems: first))
        try await withWorkers([failing]) { () async throws in
            let merged = try await queue.waitUntilFinished("ok.merge")
            let results = try #require(merged["convert"]?.arrayValue)
            #expect(results.count == 300 && results[8] == 80 && results[7] == .null && results[200] == .null)
            #expect(try await flows.waitForRun("bad", timeout: .seconds(120)).status == .failed)
        }
        #expect(try await flows.getFlowRun("ok")?.status == .completed)
        #expect(first.snapshot.keys.count == 300)
        // Redrive the failed run with a handler that no longer fails: its failed items run again, no item twice.
        let second = ItemCounter()
        let fixed = try Worker(queue: "m", client: client, prefix: prefix, options: .init(concurrency: 20),
                               handler: mapHandler(items: items, seenItems: second))
        try await flows.retryFlowRun("bad")
        try await withWorkers([fixed]) { () async throws in
            #expect(try await flows.waitForRun("bad", timeout: .seconds(120)).status == .completed)
        }
        let merged = try #require(try await queue.getJob("bad.merge")?.returnValue)
        #expect(merged["convert"] == .array((0..<300).map { .int(Int64($0) * 10) }))
        #expect(second.snapshot[7] == 1 && second.snapshot[200] == 1 && second.snapshot.values.allSatisfy { $0 == 1 })
    }
}

@Suite("Redis Cluster: flow files and the CLI")
struct CLIClusterTests {
    static let untagged = #"{"flow": "split", "nodes": {"a": {"queue": "{x}first"}, "b": {"queue": "{y}second", "needs": "a"}}}"#
    static let tagged = #"{"flow": "family", "prefix": "{billing}", "queue": "invoices", "nodes": {"a": {"run": ["cat"]}, "b": {"queue": "mail", "needs": "a", "run": ["cat"]}}}"#

    @Test("validate --cluster reports a flow whose queues and records would span slots, with their slots; exit 2")
    func validateCluster() async throws {
        try await withCLIDirectory { directory in
            try Self.untagged.write(toFile: directory + "/split.json", atomically: true, encoding: .utf8)
            try Self.tagged.write(toFile: directory + "/family.json", atomically: true, encoding: .utf8)
            // Without --cluster both are fine.
            #expect(try await CLIProcess.run(["validate", "split.json", "family.json"], in: directory).status == 0)
            let result = try await CLIProcess.run(["validate", "--cluster", "split.json", "family.json"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stdout.contains("family.json: ok"))
            #expect(result.stderr.contains("split.json:1:1: flow 'split' would span Redis Cluster hash slots (queue '{x}first' in slot \(HashSlot.of("x")), queue '{y}second' in slot \(HashSlot.of("y"))"))
            // A tagged --prefix does not help queues tagged apart; it does help untagged queues.
            let prefixed = try await CLIProcess.run(["validate", "--cluster", "--prefix", "{x}", "split.json"], in: directory)
            #expect(prefixed.status == 0, "\(prefixed)")
        }
    }

    @Test("run on a cluster: a flow that would span slots is a validation problem (exit 2), a tagged one runs")
    func runOnCluster() async throws {
        let cluster = try await SharedTestCluster.get()
        try await withCLIDirectory { directory in
            try #"{"flow": "plain", "queue": "q", "nodes": {"a": {}}}"#.write(toFile: directory + "/plain.json", atomically: true, encoding: .utf8)
            try Self.tagged.write(toFile: directory + "/family.json", atomically: true, encoding: .utf8)
            let refused = try await CLIProcess.run(["run", "plain.json", "--redis", cluster.url], in: directory)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.stderr.contains("plain.json:1:1: flow 'plain' would span Redis Cluster hash slots (queue 'q' in several slots"))
            let done = try await CLIProcess.run(["run", "family.json", "--redis", cluster.url, "--work", "--allow-commands", "--run-id", "cli1"],
                                                in: directory, timeout: .seconds(120))
            #expect(done.status == 0, "\(done)")
            let client = try await clusterClient(cluster.url)
            defer { Task { await client.close() } }
            #expect(try await FlowProducer(client: client, prefix: "{billing}").getFlowRun("cli1")?.status == .completed)
        }
    }
}

@Suite("Redis Cluster: Python bullmq interop")
struct InteropClusterTests {
    @Test("Python bullmq 3.4.4 on redis-py's RedisCluster adds jobs on a hash-tagged prefix; Tributary workers run them")
    func pythonAddsTributaryWorks() async throws {
        let peer = try PythonPeer.locate()
        let cluster = try await SharedTestCluster.get()
        let prefix = "{interop}"
        let ids = try await peer.addJobs((0..<20).map { PeerJob("py-\($0)", data: ["n": .int(Int64($0))]) },
                                         redisURL: cluster.url, queue: "mixed", prefix: prefix)
        #expect(ids.count == 20)
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let queue = try Queue("mixed", client: client, prefix: prefix)
        let worker = try Worker(queue: "mixed", client: client, prefix: prefix, options: .init(concurrency: 4)) { job in
            .int((job.data["n"]?.intValue ?? 0) * 10)
        }
        try await withWorkers([worker]) { () async throws in
            for (index, id) in ids.enumerated() {
                #expect(try await queue.waitUntilFinished(id) == .int(Int64(index * 10)))
            }
        }
        #expect(try await queue.getJobCounts()[.completed] == 20)
        // Everything the queue holds is on the master of its tag's slot.
        let owner = try cluster.master(ofSlot: HashSlot.of("interop"))
        #expect(try owner.cli("CLUSTER", "COUNTKEYSINSLOT", String(HashSlot.of("interop"))) != "0")
    }
}
