import Foundation
import Testing
@testable import Tributary

/// Every key of the database, sorted.
func allKeys(_ client: RedisClient) async throws -> [String] {
    (try await client.send(RedisCommand("KEYS", "*")).array ?? []).compactMap(\.string).sorted()
}

/// Job ids that would be a queue's own keys, the queue name reserved for flow runs, and the FIFO-safe priority
/// maximum.
@Suite("Reserved names and limits")
struct ReservedNamesTests {
    @Test("a job id naming a key of the queue is refused by Queue.add, and nothing is stored", arguments: [
        "wait", "meta", "events", "id", "paused", "active", "prioritized", "delayed", "completed", "failed", "stalled",
        "stalled-check", "waiting-children", "pc", "marker", "limiter", "repeat", "de",
    ])
    func reservedIdOnAdd(id: String) async throws {
        try await withQueue("q") { (queue: Queue, client: RedisClient, _: TestRedisServer) async throws in
            await #expect {
                try await queue.add("x", options: .init(jobId: id))
            } throws: { error in
                guard let error = error as? QueueError else { return false }
                return error.code == .invalidOption && error.message.contains("jobId '\(id)' is reserved")
            }
            #expect(try await allKeys(client) == [])
        }
    }

    @Test("a flow tree with a child id 'wait' is refused before anything is written; the wait list stays a list")
    func reservedIdInFlowTree() async throws {
        try await withQueue("q") { queue, client, _ in
            try await queue.add("before")
            let before = try await allKeys(client)
            let flows = FlowProducer(client: client)
            for id in ["wait", "meta"] {
                await #expect {
                    try await flows.add(FlowJob("parent", queue: "q", children: [
                        FlowJob("fine", queue: "q"), FlowJob("bad", queue: "q", options: .init(jobId: id)),
                    ]))
                } throws: { error in
                    (error as? QueueError)?.code == .invalidOption && "\(error)".contains("jobId '\(id)' is reserved")
                }
            }
            #expect(try await allKeys(client) == before)
            #expect(try await client.send(RedisCommand("TYPE", "bull:q:wait")).string == "list")
            #expect(try await client.send(RedisCommand("LLEN", "bull:q:wait")).int == 1)
        }
    }

    @Test("a flow file with a reserved jobId has a problem naming the node's option")
    func reservedIdInFlowFile() {
        let problems = flowProblems(flowWithNodes(#"""
            "a": {"opts": {"jobId": "meta"}}, "b": {"needs": "a", "opts": {"jobId": "wait"}}, "c": {"opts": {"jobId": "waiter"}}
            """#))
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("flow.json: nodes.a.opts.jobId: 'meta' is reserved: it would be one of the queue's own keys") == true)
        #expect(problems.last?.hasPrefix("flow.json: nodes.b.opts.jobId: 'wait' is reserved") == true)
    }

    @Test("validate gives file:line:column for a reserved jobId (exit 2)")
    func reservedIdInValidate() async throws {
        try await withCLIDirectory { directory in
            try """
                {"flow": "f", "queue": "q", "nodes": {
                  "a": {},
                  "b": {"needs": "a", "opts": {"jobId": "events"}}}}
                """.write(toFile: directory + "/f.json", atomically: true, encoding: .utf8)
            let result = try await CLIProcess.run(["validate", "f.json"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("f.json:3:32: nodes.b.opts.jobId: 'events' is reserved"), "\(result)")
        }
    }

    @Test("addChild refuses a reserved id and the parent's queue keeps its keys")
    func reservedIdOnAddChild() async throws {
        try await withQueue("q") { queue, client, _ in
            let refusal = RecordedMessages()
            let worker = try Worker(queue: "q", client: client) { job in
                do {
                    try await job.addChild("child", options: .init(jobId: "meta"))
                    await refusal.record("stored")
                } catch {
                    await refusal.record("\(error)")
                }
                return "done"
            }
            try await queue.add("parent")
            try await withWorkers([worker]) { () async throws in
                #expect(try await queue.waitUntilFinished("1") == "done")
            }
            let message = try #require(await refusal.messages.first)
            #expect(message.contains("jobId 'meta' is reserved"), "\(message)")
            #expect(try await client.send(RedisCommand("HEXISTS", "bull:q:meta", "name")).int == 0)
        }
    }

    @Test("equal priorities at the maximum run first in, first out")
    func fifoAtMaximumPriority() async throws {
        try await withQueue("prio") { queue, client, _ in
            // Ids in reverse alphabetical order: ties in the score would be broken by id, i.e. backwards.
            let letters = "hgfedcba".map(String.init)
            for (index, letter) in letters.enumerated() {
                try await queue.add("n\(index)", options: .init(jobId: "job-\(letter)", priority: JobOptions.maximumPriority))
            }
            let seen = SeenJobs()
            try await withWorkers([try scriptedWorker("prio", client: client, seen: seen, options: .init(concurrency: 1))]) {
                () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == letters.count })
            }
            #expect(await seen.names == letters.indices.map { "n\($0)" })
            await #expect(throws: QueueError.self) {
                try await queue.add("over", options: .init(priority: JobOptions.maximumPriority + 1))
            }
        }
    }

    @Test("the queue name __flows__ is refused: by Queue, and by queue commands, which leave run records alone")
    func reservedQueueName() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("dag") { _, client, server in
                #expect(throws: QueueError.self) { try Queue("__flows__", client: client) }
                try await FlowProducer(client: client).submit(try compiledFlow(#"{"flow": "f", "queue": "dag", "nodes": {"a": {}}}"#), runId: "r1")
                for arguments in [["queue", "obliterate", "__flows__", "--force"], ["queue", "drain", "__flows__"]] {
                    let result = try await CLIProcess.run(arguments + ["--redis", server.unixURL], in: directory)
                    #expect(result.status == 2, "\(result)")
                    #expect(result.stderr.contains("reserved for flow run records"), "\(result)")
                }
                #expect(try await client.send(RedisCommand("EXISTS", "bull:__flows__:run:r1", "bull:__flows__:runs")).int == 2)
            }
        }
    }
}

/// Messages recorded from inside handlers.
actor RecordedMessages {
    private(set) var messages: [String] = []
    func record(_ message: String) { messages.append(message) }
}

/// A gate handlers wait at until the test opens it.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
