import Foundation
import Synchronization
import Testing
@testable import Tributary

/// Tributary and Python bullmq 3.4.4 sharing one queue, in both directions.
@Suite("Interop with Python bullmq")
struct InteropTests {
    /// A server over TCP (Python's redis client and ours both use it), a Tributary client and the Python peer.
    func withPeer(_ body: (TestRedisServer, RedisClient, PythonPeer) async throws -> Void) async throws {
        try await withPythonPeer(overTCP: true, body)
    }

    @Test("Python adds plain, delayed, prioritized and retrying jobs; a Tributary worker runs them; Python sees the results")
    func pythonProducesTributaryConsumes() async throws {
        try await withPeer { server, client, peer in
            let ids = try await peer.addJobs([
                PeerJob("plain", data: ["n": 1]),
                PeerJob("delayed", data: ["n": 2], opts: ["delay": 300]),
                PeerJob("prioritized", data: ["n": 3], opts: ["priority": 5]),
                PeerJob("flaky", data: ["n": 4], opts: ["attempts": 3, "backoff": ["type": "exponential", "delay": 100]]),
            ], redisURL: server.tcpURL, queue: "shared")
            let failures = Mutex(0)
            let worker = try Worker(queue: "shared", client: client, options: .init(concurrency: 4)) { job in
                if job.name == "flaky", failures.withLock({ $0 += 1; return $0 }) <= 2 {
                    throw TestFailure("tributary failure \(job.attemptsMade + 1)")
                }
                return ["by": "tributary", "name": .string(job.name), "n": job.data["n"] ?? .null]
            }
            let runner = Task { try await worker.run() }
            let finished = try await peer.waitFinished(ids: ids, redisURL: server.tcpURL, queue: "shared", timeout: .seconds(30))
            await worker.close()
            try await runner.value
            for (index, name) in ["plain", "delayed", "prioritized", "flaky"].enumerated() {
                let outcome = try #require(finished[ids[index]])
                #expect(outcome.state == "completed", "\(name)")
                #expect(outcome.returnvalue == ["by": "tributary", "name": .string(name), "n": .int(Int64(index + 1))])
            }
            let flaky = try #require(try await peer.job(id: ids[3], redisURL: server.tcpURL, queue: "shared"))
            #expect(flaky["attemptsMade"] == 3)
            #expect(flaky["failedReason"] == "tributary failure 2")
        }
    }

    @Test("Tributary adds plain, delayed, prioritized and retrying jobs; a Python worker runs them; Tributary sees the results")
    func tributaryProducesPythonConsumes() async throws {
        try await withPeer { server, client, peer in
            let queue = try Queue("shared", client: client)
            let jobs = try await queue.addBulk([
                JobRequest("plain", data: ["n": 1]),
                JobRequest("delayed", data: ["n": 2], options: .init(delay: .milliseconds(300))),
                JobRequest("prioritized", data: ["n": 3], options: .init(priority: 5)),
                JobRequest("flaky", data: ["n": 4], options: .init(attempts: 3, backoff: .fixed(delay: .milliseconds(100)))),
                JobRequest("doomed", data: ["n": 5], options: .init(attempts: 2)),
            ])
            let result = try await peer.work(redisURL: server.tcpURL, queue: "shared", count: 5, concurrency: 2,
                                             failNames: ["flaky", "doomed"], failTimes: 1, timeout: .seconds(40))
            #expect(Set(result.completed.map(\.name)) == ["plain", "delayed", "prioritized", "flaky", "doomed"])
            for job in jobs {
                #expect(try await queue.getState(job.id) == .completed, "\(job.name)")
                let done = try #require(try await queue.getJob(job.id))
                #expect(done.returnValue?["by"] == "python")
                #expect(done.returnValue?["name"] == .string(job.name))
                #expect(done.returnValue?["data"] == job.data)
            }
            let flaky = try #require(try await queue.getJob(jobs[3].id))
            #expect(flaky.attemptsMade == 2 && flaky.failedReason == "python failure flaky")
        }
    }

    @Test("a Python FlowProducer tree runs on Tributary workers: children first, each parent with its children's values")
    func pythonFlowOnTributaryWorkers() async throws {
        try await withPeer { server, client, peer in
            let tree: JSONValue = ["name": "report", "queueName": "reports", "data": ["title": "q3"], "children": [
                ["name": "step-a", "queueName": "steps", "data": ["n": 1]],
                ["name": "step-b", "queueName": "steps", "data": ["n": 2]],
                ["name": "step-c", "queueName": "steps", "data": ["n": 3], "children": [
                    ["name": "sub", "queueName": "steps", "data": ["n": 4]],
                ]],
            ]]
            let root = try await peer.flow(tree, redisURL: server.tcpURL, queue: "reports")
            let reports = try Queue("reports", client: client)
            #expect(try await reports.getState(root.id) == .waitingChildren)
            // A step's total is 10·n plus its own children's totals; the report sums its children's totals.
            let steps = try Worker(queue: "steps", client: client, options: .init(concurrency: 3)) { job in
                let below = try await job.childrenValues().values.compactMap { $0["total"]?.intValue }.reduce(0, +)
                return ["total": .int((job.data["n"]?.intValue ?? 0) * 10 + below)]
            }
            let report = try Worker(queue: "reports", client: client) { job in
                let values = try await job.childrenValues()
                return ["sum": .int(values.values.compactMap { $0["total"]?.intValue }.reduce(0, +)),
                        "children": .int(Int64(values.count))]
            }
            let runners = [Task { try await steps.run() }, Task { try await report.run() }]
            let finished = try await peer.waitFinished(ids: [root.id], redisURL: server.tcpURL, queue: "reports", timeout: .seconds(30))
            await steps.close()
            await report.close()
            for runner in runners { try await runner.value }
            #expect(finished[root.id]?.state == "completed")
            #expect(finished[root.id]?.returnvalue == ["sum": 100, "children": 3])
            let stepC = try #require(root.children.first { $0.name == "step-c" })
            let stepCJob = try #require(try await Queue("steps", client: client).getJob(stepC.id))
            let processed = try await stepCJob.childrenValues(client: client)
            #expect(processed == ["bull:steps:\(stepC.children[0].id)": ["total": 40]])
        }
    }

    @Test("a Tributary flow runs on Python workers; the parent receives its children's values")
    func tributaryFlowOnPythonWorkers() async throws {
        try await withPeer { server, client, peer in
            let root = try await FlowProducer(client: client).add(FlowJob("parent", queue: "pyflow", data: ["k": 0], children: [
                FlowJob("child-a", queue: "pyflow", data: ["k": 1]),
                FlowJob("child-b", queue: "pyflow", data: ["k": 2]),
            ]))
            let result = try await peer.work(redisURL: server.tcpURL, queue: "pyflow", count: 3, timeout: .seconds(40))
            #expect(result.completed.map(\.name).last == "parent")
            let queue = try Queue("pyflow", client: client)
            #expect(try await queue.getState(root.job.id) == .completed)
            let parent = try #require(try await queue.getJob(root.job.id))
            let values = try await parent.childrenValues(client: client)
            #expect(values.count == 2)
            for child in root.children {
                #expect(values["bull:pyflow:\(child.job.id)"]?["by"] == "python")
                #expect(values["bull:pyflow:\(child.job.id)"]?["data"] == child.job.data)
            }
        }
    }

    @Test("flow jobs stored by Tributary have the fields and encodings Python's FlowProducer stores")
    func flowLayoutMatchesPython() async throws {
        try await withPeer { server, client, peer in
            let tree: JSONValue = ["name": "parent", "queueName": "py", "data": ["n": 0], "children": [["name": "child", "queueName": "py", "data": ["n": 1]]]]
            let python = try await peer.flow(tree, redisURL: server.tcpURL, queue: "py")
            let ours = try await FlowProducer(client: client).add(FlowJob("parent", queue: "sw", data: ["n": 0], children: [
                FlowJob("child", queue: "sw", data: ["n": 1]),
            ]))
            let pythonParent = try await hashFields(client, "bull:py:\(python.id)")
            let ourParent = try await hashFields(client, "bull:sw:\(ours.job.id)")
            let pythonChild = try await hashFields(client, "bull:py:\(python.children[0].id)")
            let ourChild = try await hashFields(client, "bull:sw:\(ours.children[0].job.id)")
            #expect(Set(ourParent.keys) == Set(pythonParent.keys))
            #expect(Set(ourChild.keys) == Set(pythonChild.keys))
            #expect(try canonical(JSONValue.parse(ourParent["opts"]!)) == canonical(JSONValue.parse(pythonParent["opts"]!)))
            // The child's opts and parent fields differ only by the ids and queue names.
            let theirs = pythonChild["opts"]!.replacingOccurrences(of: python.id, with: "ID").replacingOccurrences(of: "bull:py", with: "Q")
            let mine = ourChild["opts"]!.replacingOccurrences(of: ours.job.id, with: "ID").replacingOccurrences(of: "bull:sw", with: "Q")
            #expect(try canonical(JSONValue.parse(mine)) == canonical(JSONValue.parse(theirs)))
            #expect(ourChild["parent"]!.replacingOccurrences(of: ours.job.id, with: "ID").replacingOccurrences(of: "bull:sw", with: "Q")
                == pythonChild["parent"]!.replacingOccurrences(of: python.id, with: "ID").replacingOccurrences(of: "bull:py", with: "Q"))
            #expect(try await Queue("sw", client: client).getState(ours.job.id) == .waitingChildren)
            #expect(try await Queue("py", client: client).getState(python.id) == .waitingChildren)
        }
    }

    @Test("getJobCounts from both sides agree, in every state")
    func countsAgree() async throws {
        try await withPeer { server, client, peer in
            let queue = try Queue("counted", client: client)
            try await queue.addBulk((0..<3).map { _ in JobRequest("done") })
            let worker = try Worker(queue: "counted", client: client) { job in
                if job.data["fail"] == true { throw UnrecoverableError("no") }
                return .null
            }
            let runner = Task { try await worker.run() }
            try await queue.add("bad", data: ["fail": true])
            while try await queue.getJobCounts().completed + queue.getJobCounts().failed < 4 {
                try await Task.sleep(for: .milliseconds(20))
            }
            await worker.close()
            try await runner.value
            try await queue.addBulk([
                JobRequest("waiting"), JobRequest("waiting"),
                JobRequest("later", options: .init(delay: .seconds(60))),
                JobRequest("urgent", options: .init(priority: 1)),
            ])
            let ours = try await queue.getJobCounts()
            let theirs = try await peer.counts(redisURL: server.tcpURL, queue: "counted")
            #expect(ours.waiting == 2 && ours.delayed == 1 && ours.prioritized == 1 && ours.completed == 3 && ours.failed == 1)
            #expect(theirs["waiting"] == ours.waiting)
            #expect(theirs["active"] == ours.active)
            #expect(theirs["delayed"] == ours.delayed)
            #expect(theirs["prioritized"] == ours.prioritized)
            #expect(theirs["completed"] == ours.completed)
            #expect(theirs["failed"] == ours.failed)
            #expect(theirs["waiting-children"] == ours.waitingChildren)
            #expect(theirs["paused"] == ours.paused)
        }
    }

    @Test("a job added by Tributary has the fields and encodings of the same job added by Python", arguments: [
        ("plain", JobOptions(), [:] as JSONObject),
        ("delayed", JobOptions(delay: .seconds(5)), ["delay": 5000] as JSONObject),
        ("prioritized", JobOptions(priority: 2), ["priority": 2] as JSONObject),
        ("retries", JobOptions(attempts: 3, backoff: .exponential(delay: .seconds(1))),
         ["attempts": 3, "backoff": ["type": "exponential", "delay": 1000]] as JSONObject),
        ("lifo", JobOptions(jobId: "custom-1", lifo: true), ["jobId": "custom-1", "lifo": true] as JSONObject),
        ("retention", JobOptions(removeOnComplete: .keepLast(10), removeOnFail: .keepFor(age: .seconds(3600), count: 5)),
         ["removeOnComplete": 10, "removeOnFail": ["age": 3600, "count": 5]] as JSONObject),
    ])
    func sameHashAsPython(label: String, ours: JobOptions, theirs: JSONObject) async throws {
        try await withPeer { server, client, peer in
            let data: JSONValue = ["title": "quarterly", "tags": ["a", "b"], "nested": ["x": 1.5, "ok": true]]
            let pythonID = try await peer.addJobs([PeerJob(label, data: data, opts: theirs)], redisURL: server.tcpURL, queue: "python")[0]
            let tributaryJob = try await Queue("tributary", client: client).add(label, data: data, options: ours)
            let python = try await hashFields(client, "bull:python:\(pythonID)")
            let tributary = try await hashFields(client, "bull:tributary:\(tributaryJob.id)")
            #expect(Set(tributary.keys) == Set(python.keys))
            for field in ["name", "delay", "priority"] {
                #expect(tributary[field] == python[field], "\(field)")
            }
            #expect(try JSONValue.parse(tributary["data"]!) == JSONValue.parse(python["data"]!))
            // cjson writes opts keys in Lua's table order, so compare them as JSON objects, not as text.
            #expect(try canonical(JSONValue.parse(tributary["opts"]!)) == canonical(JSONValue.parse(python["opts"]!)))
            #expect(abs((Int64(tributary["timestamp"]!) ?? 0) - (Int64(python["timestamp"]!) ?? 0)) < 60_000)
        }
    }
}

/// The value with every object's keys sorted, so that key order does not count in comparisons.
func canonical(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let object):
        var sorted = JSONObject()
        for key in object.keys.sorted() { sorted[key] = canonical(object[key]!) }
        return .object(sorted)
    case .array(let elements):
        return .array(elements.map(canonical))
    default:
        return value
    }
}
