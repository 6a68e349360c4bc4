import Foundation
import Testing
@testable import Tributary

/// `QueueDoctor` and `tributary doctor`: each kind of inconsistency is made by hand on a real redis-server, found,
/// repaired where that is safe, and gone afterwards.
@Suite("Doctor")
struct DoctorTests {
    private func send(_ client: RedisClient, _ arguments: RedisArgument...) async throws {
        _ = try await client.send(RedisCommand(fullArguments: arguments))
    }

    /// Examines, expects exactly `kinds` (one finding each) about `jobId`, repairs, and expects a healthy queue.
    private func findAndRepair(_ client: RedisClient, expect kind: DoctorFinding.Kind, jobId: String?,
                               healthyAfterRepair: Bool = true) async throws {
        let doctor = QueueDoctor(client: client, lockDuration: .seconds(1))
        let report = try await doctor.examine()
        #expect(report.findings.map(\.kind) == [kind], "\(report.findings)")
        #expect(report.findings.first?.jobId == jobId)
        let repairs = try await doctor.repair(report)
        #expect(repairs.map(\.repaired) == [kind.isRepairable], "\(repairs)")
        if healthyAfterRepair {
            let after = try await doctor.examine()
            #expect(after.isHealthy, "\(after.findings)")
        }
    }

    @Test("a healthy queue with waiting, delayed, completed, failed jobs and a finished flow has no findings")
    func healthy() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("a")
            try await queue.add("later", options: .init(delay: .seconds(3600)))
            try await queue.add("urgent", options: .init(priority: 3))
            let flows = FlowProducer(client: client)
            try await flows.add(FlowJob("parent", queue: "other", children: [FlowJob("child", queue: "jobs")]))
            let report = try await QueueDoctor(client: client).examine()
            #expect(report.isHealthy, "\(report.findings)")
            #expect(report.queues == ["jobs", "other"])
            #expect(report.jobsExamined == 5)
        }
    }

    @Test("an item held back by its map node for maxConcurrency is not a job in no state")
    func heldMapItem() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("fine")
            try await send(client, "HSET", "bull:jobs:m", "name", "convert", "data", "{}", "opts", "{}", "timestamp", 1)
            try await send(client, "ZADD", "bull:jobs:waiting-children", 1, "m")
            try await send(client, "HSET", "bull:jobs:m/0", "name", "convert", "data", "{}", "opts", "{}", "timestamp", 1,
                           "parentKey", "bull:jobs:m", "parent", #"{"id":"m","queueKey":"bull:jobs","idof":true}"#,
                           "mapIndex", 0)
            try await send(client, "SADD", "bull:jobs:m:dependencies", "bull:jobs:m/0")
            try await send(client, "RPUSH", "bull:jobs:m:held", "m/0")
            let report = try await QueueDoctor(client: client).examine()
            #expect(report.isHealthy, "\(report.findings)")
            try await send(client, "LREM", "bull:jobs:m:held", 0, "m/0")
            let lost = try await QueueDoctor(client: client).examine()
            #expect(lost.findings.map(\.kind) == [.jobInNoState] && lost.findings.first?.jobId == "m/0")
        }
    }

    @Test("a job hash in no state list is found and moved to failed with a reason")
    func jobInNoState() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("fine")  // the queue exists (queues are found by their id and meta keys)
            try await send(client, "HSET", "bull:jobs:lost", "name", "n", "data", "{}", "opts", "{}", "timestamp", 1)
            try await findAndRepair(client, expect: .jobInNoState, jobId: "lost")
            #expect(try await Queue("jobs", client: client).getState("lost") == .failed)
            let reason = try await client.send(RedisCommand("HGET", "bull:jobs:lost", "failedReason")).string
            #expect(reason?.contains("no state list") == true)
        }
    }

    @Test("a job in wait and completed at once is reported, not repaired")
    func severalStates() async throws {
        try await withQueue("jobs") { queue, client, _ in
            let job = try await queue.add("twice")
            try await send(client, "ZADD", "bull:jobs:completed", 1, .string(job.id))
            let report = try await QueueDoctor(client: client).examine()
            #expect(report.findings.map(\.kind) == [.jobInSeveralStates])
            #expect(report.findings.first?.detail.contains("wait and completed") == true, "\(report.findings)")
            let repairs = try await QueueDoctor(client: client).repair(report)
            #expect(repairs.map(\.repaired) == [false])
        }
    }

    @Test("an id in wait without a job hash is found and removed")
    func missingHash() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("real")
            try await send(client, "LPUSH", "bull:jobs:wait", "ghost")
            try await findAndRepair(client, expect: .missingJobHash, jobId: "ghost")
            let wait = try await client.send(RedisCommand("LRANGE", "bull:jobs:wait", 0, -1)).array?.compactMap(\.string)
            #expect(wait?.count == 1 && wait?.contains("ghost") == false)
        }
    }

    @Test("a parent waiting for a child that does not exist is found; the repair moves it on")
    func missingDependency() async throws {
        try await withQueue("jobs") { _, client, _ in
            let flows = FlowProducer(client: client)
            let tree = try await flows.add(FlowJob("parent", queue: "jobs", children: [FlowJob("child", queue: "jobs")]))
            let childKey = tree.children[0].job.key
            try await send(client, "DEL", .string(childKey))
            try await send(client, "LREM", "bull:jobs:wait", 0, .string(tree.children[0].job.id))
            try await findAndRepair(client, expect: .missingDependency, jobId: tree.job.id)
            #expect(try await Queue("jobs", client: client).getState(tree.job.id) == .waiting)
        }
    }

    @Test("a parent in waiting-children with nothing pending is found; the repair moves it to wait")
    func stuckParent() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("fine")
            try await send(client, "HSET", "bull:jobs:p", "name", "p", "data", "{}", "opts", "{}", "timestamp", 1)
            try await send(client, "ZADD", "bull:jobs:waiting-children", 1, "p")
            try await findAndRepair(client, expect: .stuckParent, jobId: "p")
            #expect(try await Queue("jobs", client: client).getState("p") == .waiting)
        }
    }

    @Test("an unfinished child whose parent is gone is found; the repair removes the link")
    func orphanChild() async throws {
        try await withQueue("jobs") { queue, client, _ in
            let job = try await queue.add("child")
            try await send(client, "HSET", .string(job.key), "parentKey", "bull:jobs:nobody",
                           "parent", #"{"id":"nobody","queueKey":"bull:jobs"}"#)
            try await findAndRepair(client, expect: .orphanChild, jobId: job.id)
            let fields = try await client.send(RedisCommand("HMGET", .string(job.key), "parentKey", "parent")).array
            #expect(fields?.allSatisfy(\.isNull) == true)
        }
    }

    @Test("a lock of a job that is not active is found and deleted")
    func strayLock() async throws {
        try await withQueue("jobs") { queue, client, _ in
            let job = try await queue.add("done")
            try await send(client, "SET", .string(job.key + ":lock"), "token")
            try await findAndRepair(client, expect: .strayLock, jobId: job.id)
            #expect(try await client.send(RedisCommand("EXISTS", .string(job.key + ":lock"))).int == 0)
        }
    }

    @Test("an active job without a lock is found and marked stalled; a worker's stalled check then runs it")
    func unlockedActive() async throws {
        try await withQueue("jobs") { queue, client, _ in
            let job = try await queue.add("abandoned")
            try await send(client, "LREM", "bull:jobs:wait", 0, .string(job.id))
            try await send(client, "LPUSH", "bull:jobs:active", .string(job.id))
            try await send(client, "HSET", .string(job.key), "processedOn", .integer(EpochClock.milliseconds() - 60_000))
            try await findAndRepair(client, expect: .unlockedActive, jobId: job.id, healthyAfterRepair: false)
            #expect(try await client.send(RedisCommand("SISMEMBER", "bull:jobs:stalled", .string(job.id))).int == 1)
            var options = WorkerOptions()
            options.stalledInterval = .milliseconds(200)
            let worker = try Worker(queue: "jobs", client: client, options: options) { _ in .string("ran") }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .completed })
            }
            #expect(try await QueueDoctor(client: client).examine().isHealthy)
        }
    }

    @Test("a run whose node job vanished without a recorded outcome is reported")
    func runMismatch() async throws {
        try await withQueue("jobs") { _, client, _ in
            let plan = try FlowCompiler.compile(#"{"flow": "f", "queue": "jobs", "nodes": {"a": {}, "b": {"needs": "a"}}}"#, source: "f.json")
            let receipt = try await FlowProducer(client: client).submit(plan, runId: "r1")
            try await send(client, "DEL", .string("bull:jobs:" + receipt.jobIds["a"]!))
            try await send(client, "LREM", "bull:jobs:wait", 0, .string(receipt.jobIds["a"]!))
            let report = try await QueueDoctor(client: client).examine()
            let mismatch = report.findings.filter { $0.kind == .runMismatch }
            #expect(mismatch.count == 1 && mismatch[0].detail.contains("node 'a'"), "\(report.findings)")
        }
    }

    @Test("a queue key of the wrong type is reported")
    func wrongType() async throws {
        try await withQueue("jobs") { queue, client, _ in
            try await queue.add("a")
            try await send(client, "HSET", "bull:jobs:paused", "x", "y")
            let report = try await QueueDoctor(client: client).examine()
            #expect(report.findings.map(\.kind) == [.wrongKeyType])
            #expect(report.findings.first?.key == "bull:jobs:paused")
        }
    }

    @Test("tributary doctor exits 1 with findings, --fix repairs them, and a second run exits 0")
    func cli() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("jobs") { queue, client, server in
                try await queue.add("fine")
                try await send(client, "LPUSH", "bull:jobs:wait", "ghost")
                try await send(client, "HSET", "bull:jobs:lost", "name", "n", "data", "{}", "opts", "{}", "timestamp", 1)
                let first = try await CLIProcess.run(["doctor", "--json", "--redis", server.unixURL], in: directory)
                #expect(first.status == 1, "\(first)")
                let json = try first.json()
                #expect(json["counts"]?["missing-job-hash"] == 1 && json["counts"]?["job-in-no-state"] == 1, "\(first)")
                let fixed = try await CLIProcess.run(["doctor", "--fix", "--redis", server.unixURL], in: directory)
                #expect(fixed.status == 0, "\(fixed)")
                #expect(fixed.stdout.contains("repaired: the dangling id is removed"), "\(fixed)")
                let again = try await CLIProcess.run(["doctor", "--redis", server.unixURL], in: directory)
                #expect(again.status == 0 && again.stdout.contains("no problems found"), "\(again)")
            }
        }
    }
}
