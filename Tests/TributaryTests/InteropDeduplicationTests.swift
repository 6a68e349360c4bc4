import Testing
@testable import Tributary

/// Deduplication between Python bullmq 3.4.4 and Tributary: `keepLastIfActive` (the side that adds keeps the job
/// in `dn:<id>`, the side whose worker runs the holder adds it when the holder finishes), and a flow run's
/// deduplicated node taking the outcome of a job Python added.
@Suite("Interop: deduplication keepLastIfActive and deduplicated flow nodes")
struct InteropDeduplicationTests {
    static let pythonOptions: JSONObject = ["deduplication": ["id": "sync", "keepLastIfActive": true]]

    @Test("Python adds with keepLastIfActive while a Tributary worker runs the holder: Tributary adds the kept job when the holder finishes")
    func pythonKeepsTributaryRuns() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("dedup", client: client)
            let gate = Gate()
            let seen = RecordedMessages()
            let worker = try Worker(queue: "dedup", client: client) { job in
                await seen.record("\(job.id):\(job.data["v"]?.intValue ?? -1)")
                if job.data["v"] == 1 { await gate.wait() }
                return job.data
            }
            let holder = try await queue.add("sync", data: ["v": 1],
                                             options: .init(deduplication: .init(id: "sync", keepLastIfActive: true)))
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await queue.getState(holder.id) == .active })
                let ids = try await peer.addJobs([PeerJob("sync", data: ["v": 2], opts: Self.pythonOptions),
                                                  PeerJob("sync", data: ["v": 3], opts: Self.pythonOptions)],
                                                 redisURL: server.unixURL, queue: "dedup")
                #expect(ids == [holder.id, holder.id])
                let kept = try await hashFields(client, "bull:dedup:dn:sync")
                #expect(kept["jid"] == "3" && kept["name"] == "sync")
                #expect(try JSONValue.parse(kept["data"] ?? "") == ["v": 3])
                await gate.open()
                #expect(try await eventually { try await queue.getState("3") == .completed })
            }
            #expect(await seen.messages == ["1:1", "3:3"])
            #expect(try await queue.getJob("3")?.deduplicationId == "sync")
            #expect(try await queue.getDeduplicationJobId("sync") == nil)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:dedup:dn:sync")).int == 0)
        }
    }

    @Test("Tributary adds with keepLastIfActive while a Python worker runs the holder: Python adds the kept job when the holder finishes")
    func tributaryKeepsPythonRuns() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("dedup", client: client)
            let options = JobOptions(deduplication: .init(id: "sync", keepLastIfActive: true))
            let holder = try await queue.add("hold", data: ["v": 1], options: options)
            async let work = peer.work(redisURL: server.unixURL, queue: "dedup", count: 2, holdNames: ["hold"],
                                       timeout: .seconds(90))
            #expect(try await eventually { try await queue.getState(holder.id) == .active })
            let second = try await queue.add("sync", data: ["v": 2], options: options)
            let third = try await queue.add("sync", data: ["v": 3], options: options)
            #expect(second.addWasDeduplicated && third.addWasDeduplicated && third.id == holder.id)
            // The same layout Python writes (see the other direction).
            let kept = try await hashFields(client, "bull:dedup:dn:sync")
            try await client.send(RedisCommand("SET", "peer:release", "1"))
            let keptId = try #require(third.keptNextJobId)
            #expect(Set(kept.keys) == ["name", "data", "opts", "jid"] && kept["jid"] == keptId)
            let result = try await work
            #expect(result.completed.map(\.id) == [holder.id, keptId])
            #expect(result.completed.last?.returnvalue["data"] == ["v": 3])
            #expect(try await queue.getJob(keptId)?.deduplicationId == "sync")
            #expect(try await queue.getJob(second.keptNextJobId ?? "") == nil)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:dedup:dn:sync")).int == 0)
        }
    }

    @Test("a flow run's node deduplicated against a job Python bullmq added (and ran) takes that job's result")
    func pythonHolderForARunNode() async throws {
        try await withPythonPeer { server, client, peer in
            let queue = try Queue("dag", client: client)
            let ids = try await peer.addJobs([PeerJob("fetch", data: ["day": 1], opts: ["deduplication": ["id": "fetch-day"]])],
                                             redisURL: server.unixURL, queue: "dag")
            let plan = try compiledFlow("""
                {"flow": "daily", "queue": "dag", "nodes": {
                  "fetch": {"opts": {"deduplication": {"id": "fetch-day"}, "delay": 600000}},
                  "use": {"needs": "fetch"}}}
                """)
            let flows = FlowProducer(client: client)
            try await flows.submit(plan, runId: "r")
            #expect(try await hashFields(client, "bull:dag:r.fetch")["flowDedupHolder"] == ids[0])
            // Python runs its job while the node waits in the delayed set; then the node is let go.
            let python = try await peer.work(redisURL: server.unixURL, queue: "dag", count: 1, timeout: .seconds(90))
            #expect(python.completed.map(\.id) == ids)
            try await queue.promoteJob("r.fetch")
            let worker = try Worker(queue: "dag", client: client) { job in
                job.name == "use" ? job.inputs["fetch"] ?? "no input" : .string("tributary ran \(job.name)")
            }
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await flows.getFlowRun("r")?.status == .completed })
            }
            let value = try #require(python.completed.first?.returnvalue)
            #expect(value["by"] == "python")
            #expect(try await queue.getJob("r.fetch")?.returnValue == value)
            #expect(try await queue.getJob("r.use")?.returnValue == value)
        }
    }
}
