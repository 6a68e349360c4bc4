import Foundation
import Synchronization
import Testing
@testable import Tributary

@Suite("Redis Cluster failover")
struct RedisClusterFailoverTests {
    /// What a master's death costs, stated: replication is asynchronous, so a write the master acknowledged in its
    /// last moments may not have reached the replica that replaces it. For a queue this can only mean that a job's
    /// completion (or lock) is lost with it: the job is found stalled on the promoted replica and runs again. No job
    /// is lost and no result is missing; re-runs are bounded by the jobs in flight around the kill.
    @Test("a master killed mid-run: its replica is promoted, workers follow, the run completes with every result")
    func masterKilledMidRun() async throws {
        let cluster = try await TestRedisCluster.start()
        defer { cluster.stop() }
        let client = try await clusterClient(cluster.url)
        defer { Task { await client.close() } }
        let prefix = "{failover}"
        let leafCount = 200, concurrency = 4
        let children = (0..<leafCount).map { "\"c\($0)\": {\"queue\": \"leaves\", \"data\": {\"value\": \"\($0)\"}}" }
        let needs = (0..<leafCount).map { "\"c\($0)\"" }.joined(separator: ",")
        let flows = FlowProducer(client: client, prefix: prefix)
        try await flows.submit(try compiledFlow("""
            {"flow": "fan", "queue": "sums", "nodes": {\(children.joined(separator: ",")), "sum": {"needs": [\(needs)]}}}
            """), runId: "r")
        let runs = Mutex<[String: Int]>([:])
        let options = WorkerOptions(concurrency: concurrency, lockDuration: .seconds(4), stalledInterval: .seconds(2),
                                    maxStalledCount: 100)
        let leaves = try Worker(queue: "leaves", client: client, prefix: prefix, options: options) { job in
            runs.withLock { $0[job.flowNodeId ?? job.id, default: 0] += 1 }
            try await Task.sleep(for: .milliseconds(30))
            return job.data["value"] ?? .null
        }
        let sums = try Worker(queue: "sums", client: client, prefix: prefix, options: options) { job in
            .int(job.inputs.values.compactMap { $0.stringValue.flatMap { Int64($0) } }.reduce(0, +))
        }
        let slot = HashSlot.of(prefix)
        let doomed = try cluster.master(ofSlot: slot)
        let run = try await whileRunning([leaves, sums]) { () async throws -> FlowRun in
            #expect(try await eventually { runs.withLock { $0.count } >= leafCount / 4 })
            doomed.kill()
            return try await flows.waitForRun("r", timeout: .seconds(120))
        }
        let promoted = try cluster.master(ofSlot: slot)
        #expect(promoted.port != doomed.port)
        #expect(run.status == .completed)
        #expect(run.nodes.allSatisfy { $0.state == .completed })
        #expect(run.node("sum")?.job?.returnValue == .int(Int64((leafCount - 1) * leafCount / 2)))
        let counts = runs.withLock { $0 }
        let reruns = counts.values.reduce(0) { $0 + $1 - 1 }
        #expect(counts.count == leafCount)
        #expect(reruns <= 3 * concurrency, "jobs run again after the failover: \(reruns)")
        print("failover: \(leafCount) leaves, \(reruns) ran again after the master on port \(doomed.port) was killed; new master \(promoted.port)")
    }
}
