import Foundation
import Synchronization
import Testing
@testable import Tributary

/// A cluster whose nodes speak TLS to clients, to each other and to replicas, with an ACL user on every node.
@Suite("Redis Cluster over TLS with an ACL user")
struct RedisClusterTLSTests {
    @Test("queues, a worker and a flow run over rediss:// with a seed list and an ACL user; every connection is TLS")
    func tlsAndACL() async throws {
        let cluster = try await TestRedisCluster.start(masters: 3, replicas: 0, tls: true)
        defer { cluster.stop() }
        for node in cluster.nodes {
            #expect(try node.cli("ACL", "SETUSER", "worker", "on", ">s3cret", "~*", "&*", "+@all", "-flushall") == "OK")
        }
        let url = cluster.url.replacingOccurrences(of: "rediss://", with: "rediss://worker:s3cret@")
        let client = try await clusterClient(url)
        defer { Task { await client.close() } }
        let prefix = "{secure}"
        let queue = try Queue("mail", client: client, prefix: prefix)
        let jobs = try await queue.addBulk((0..<50).map { JobRequest("send", data: ["n": .int(Int64($0))]) })
        let flows = FlowProducer(client: client, prefix: prefix)
        try await flows.submit(try compiledFlow(FlowRunTests.diamond), runId: "d")
        let mail = try Worker(queue: "mail", client: client, prefix: prefix, options: .init(concurrency: 10)) { job in
            .int((job.data["n"]?.intValue ?? 0) * 2)
        }
        let dag = try Worker(queue: "dag", client: client, prefix: prefix, options: .init(concurrency: 4)) { job in
            let me = job.flowNodeId ?? job.name
            if job.inputs.isEmpty { return .string(me) }
            return .string("\(me)(\(job.inputs.keys.sorted().map { job.inputs[$0]?.stringValue ?? "?" }.joined(separator: ",")))")
        }
        try await withWorkers([mail, dag]) { () async throws in
            #expect(try await queue.waitUntilFinished(jobs[49].id) == 98)
            #expect(try await flows.waitForRun("d", timeout: .seconds(60)).status == .completed)
        }
        #expect(try await queue.getJobCounts()[.completed] == 50)
        #expect(try await Queue("dag", client: client, prefix: prefix).getJob("d.join")?.returnValue
                == "join(left(source),right(source))")
        // The owner of the tag's slot served the client over its TLS port, as the ACL user.
        let owner = try cluster.master(ofSlot: HashSlot.of("secure"))
        let lines = try owner.cli("CLIENT", "LIST").split(separator: "\n").filter { $0.contains("user=worker") }
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("laddr=127.0.0.1:\(owner.tlsPort) ") }, "\(lines)")
    }
}
