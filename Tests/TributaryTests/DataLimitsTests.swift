import Foundation
import Testing
@testable import Tributary

/// ``DataLimits``: oversized data, runs and maps are refused before anything is written; oversized results fail
/// their job.
@Suite("Data limits")
struct DataLimitsTests {
    /// Every key of the server (nothing may be written by a refused add).
    private func keyCount(_ client: RedisClient) async throws -> Int {
        try await client.send(RedisCommand("DBSIZE")).int ?? -1
    }

    private func isLimitError(_ error: any Error, _ parts: String...) -> Bool {
        guard let error = error as? QueueError, error.code == .limitExceeded else { return false }
        return parts.allSatisfy { error.message.contains($0) }
    }

    @Test("the defaults: 16 MiB per job and per result (the command-output cap), 256 MiB per run, 1,000,000 nodes, 100,000 map items")
    func defaults() {
        let limits = DataLimits.default
        #expect(limits.jobDataBytes == 16 << 20 && limits.returnValueBytes == 16 << 20)
        #expect(CommandStep.Options().maxOutputBytes == limits.returnValueBytes)
        #expect(limits.runDataBytes == 256 << 20 && limits.runNodes == 1_000_000 && limits.mapItems == 100_000)
        #expect(DataLimits.count(16_777_217) == "16,777,217" && DataLimits.count(12) == "12")
    }

    @Test("Queue.add refuses data over its limit, naming the size and the limit; nothing is written; the limit itself fits")
    func jobData() async throws {
        // A small limit: data of the default's size (16 MiB) would keep a debug build's CPU busy for a long time.
        try await withQueue("big") { (_, client, _) async throws in
            let queue = try Queue("big", client: client, limits: DataLimits(jobDataBytes: 1000))
            await #expect {
                try await queue.add("huge", data: .string(String(repeating: "x", count: 1000)))  // 1,002 bytes with quotes
            } throws: { error in
                isLimitError(error, "the data of job 'huge' is 1,002 bytes, over the limit of 1,000 bytes", "nothing was stored")
            }
            #expect(try await keyCount(client) == 0)
            let fits = try await queue.add("fits", data: .string(String(repeating: "x", count: 998)))
            #expect(try await queue.getState(fits.id) == .waiting)
            #expect(try Queue("d", client: client).limits == .default)
        }
    }

    @Test("addBulk with one job over a configured limit stores none of them; DataLimits.none turns it off")
    func bulkAllOrNothing() async throws {
        try await withQueue("bulk") { (_, client, _) async throws in
            let queue = try Queue("bulk", client: client, limits: DataLimits(jobDataBytes: 100))
            let requests = [JobRequest("small", data: ["n": 1]), JobRequest("large", data: .string(String(repeating: "y", count: 200)))]
            await #expect {
                try await queue.addBulk(requests)
            } throws: { error in
                isLimitError(error, "job 1 ('large')", "202 bytes", "limit of 100 bytes")
            }
            #expect(try await keyCount(client) == 0)
            let unlimited = try Queue("bulk", client: client, limits: .none)
            #expect(try await unlimited.addBulk(requests).count == 2)
        }
    }

    @Test("a flow tree over its node count or total data is refused before anything is stored")
    func flowTrees() async throws {
        try await withQueue("tree") { (_, client, _) async throws in
            let tree = FlowJob("parent", queue: "tree", data: .string(String(repeating: "p", count: 60)), children: [
                FlowJob("a", queue: "tree", data: .string(String(repeating: "a", count: 60))),
                FlowJob("b", queue: "tree", data: .string(String(repeating: "b", count: 60))),
            ])
            await #expect {
                try await FlowProducer(client: client, limits: DataLimits(runNodes: 2)).add(tree)
            } throws: { isLimitError($0, "flow tree 'parent' has 3 nodes, over the limit of 2") }
            await #expect {
                try await FlowProducer(client: client, limits: DataLimits(runDataBytes: 150)).add(tree)
            } throws: { isLimitError($0, "the data of flow tree 'parent' (all its nodes together) is 186 bytes, over the limit of 150 bytes") }
            await #expect {
                try await FlowProducer(client: client, limits: DataLimits(jobDataBytes: 50)).add(tree)
            } throws: { isLimitError($0, "the data of flow node parent is 62 bytes, over the limit of 50 bytes") }
            #expect(try await keyCount(client) == 0)
            #expect(try await FlowProducer(client: client).add(tree).children.count == 2)
        }
    }

    @Test("a run over its nodes, a node's data, the run's data or a literal map's items is refused; no run record, no job")
    func runs() async throws {
        try await withQueue("run") { (_, client, _) async throws in
            let flow = try compiledFlow("""
                {"flow": "limited", "queue": "run", "nodes": {
                  "a": {"data": {"text": "\(String(repeating: "a", count: 100))"}},
                  "b": {"needs": "a", "data": {"text": "\(String(repeating: "b", count: 100))"}},
                  "each": {"map": {"items": [1, 2, 3, 4]}}}}
                """)
            let cases: [(DataLimits, String)] = [
                (DataLimits(runNodes: 2), "flow 'limited' has 3 nodes, over the limit of 2"),
                (DataLimits(jobDataBytes: 100), "the data of node 'a' is 111 bytes, over the limit of 100 bytes"),
                (DataLimits(runDataBytes: 200), "the data of run r of flow 'limited' (all its nodes together) is 224 bytes, over the limit of 200 bytes"),
                (DataLimits(mapItems: 3), "map node 'each' has 4 items, over the limit of 3"),
            ]
            for (limits, message) in cases {
                await #expect {
                    try await FlowProducer(client: client, limits: limits).submit(flow, runId: "r")
                } throws: { isLimitError($0, message) }
                #expect(try await keyCount(client) == 0, "\(message)")
            }
            #expect(try await FlowProducer(client: client).submit(flow, runId: "r").created)
        }
    }

    @Test("a result over returnValueBytes fails its job at once (attempts left unused), naming size and limit")
    func results() async throws {
        try await withQueue("results") { (queue, client, _) async throws in
            let job = try await queue.add("big-result", data: ["n": 300], options: .init(attempts: 3))
            let small = try await queue.add("small-result", data: ["n": 10], options: .init(attempts: 3))
            var options = WorkerOptions()
            options.limits.returnValueBytes = 100
            let worker = try Worker(queue: "results", client: client, options: options) { job in
                .string(String(repeating: "r", count: Int(job.data["n"]?.intValue ?? 0)))
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually(.seconds(30)) { try await queue.getState(job.id) == .failed })
                #expect(try await eventually(.seconds(30)) { try await queue.getState(small.id) == .completed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.failedReason == "the result of job \(job.id) is 302 bytes, over the limit of 100 bytes "
                + "(DataLimits.returnValueBytes, --max-result); the job failed")
            #expect(failed.attemptsMade == 1 && failed.returnValue == nil)
        }
    }

    @Test("a map whose list (from a result) is over mapItems fails the map node without adding an item")
    func mapItems() async throws {
        try await withQueue("m") { (queue, client, _) async throws in
            try await FlowProducer(client: client).submit(try compiledFlow(mapFlow(#"{"items": "list.files"}"#)), runId: "r")
            var options = WorkerOptions(concurrency: 4)
            options.limits.mapItems = 5
            let items = JSONValue.array((0..<6).map { .int(Int64($0)) })
            try await withWorkers([try mapWorker("m", client: client, items: items, options: options)]) { () async throws in
                await #expect(throws: JobFailedError.self) { try await queue.waitUntilFinished("r.merge") }
            }
            let map = try #require(try await queue.getJob("r.convert"))
            #expect(map.failedReason == "map node 'convert': 'list.files' has 6 items, over the limit of 5 "
                + "(DataLimits.mapItems, --max-map-items); no item was added")
            #expect(map.attemptsMade == 1)
            #expect(try await queue.getJob("r.convert/0") == nil)
        }
    }

    @Test("CLI: run refuses data over --max-job-data with exit 2 and the sizes; --max-nodes likewise; nothing stored")
    func cli() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("cli") { (_, client, server) async throws in
                let file = directory + "/flow.json"
                try #"{"flow": "f", "queue": "cli", "nodes": {"a": {}, "b": {"needs": "a"}}}"#
                    .write(toFile: file, atomically: true, encoding: .utf8)
                let blob = directory + "/data.json"
                try "{\"blob\": \"\(String(repeating: "z", count: 2000))\"}".write(toFile: blob, atomically: true, encoding: .utf8)
                let tooBig = try await CLIProcess.run(["run", file, "--data", "@" + blob, "--max-job-data", "1KiB",
                                                       "--redis", server.unixURL], in: directory)
                #expect(tooBig.status == 2, "\(tooBig)")
                #expect(tooBig.stderr.contains("the data of node 'a' is 2,011 bytes, over the limit of 1,024 bytes"), "\(tooBig)")
                let tooMany = try await CLIProcess.run(["run", file, "--max-nodes", "1", "--redis", server.unixURL], in: directory)
                #expect(tooMany.status == 2 && tooMany.stderr.contains("flow 'f' has 2 nodes, over the limit of 1"), "\(tooMany)")
                #expect(try await keyCount(client) == 0)
                let fine = try await CLIProcess.run(["run", file, "--data", "@" + blob, "--max-job-data", "none",
                                                     "--redis", server.unixURL], in: directory)
                #expect(fine.status == 0, "\(fine)")
            }
        }
    }
}
