import NIOConcurrencyHelpers
import Testing
@testable import Tributary

/// A worker's finishes: several jobs finished by one `moveToFinished` call when their completions arrive together.
@Suite("Finishing jobs together")
struct FinishBatcherTests {
    /// Records each call the batcher sends; the first call waits for `gate`.
    private final class Recorder: Sendable {
        let calls = NIOLockedValueBox<[[String]]>([])
        let gate = Gate()
        let firstCallStarted = Gate()

        func send(_ arguments: [RedisArgument], _ count: Int) async throws -> RESPValue {
            let ids = arguments.map { argument -> String in
                if case .string(let text) = argument { return text }
                return "?"
            }
            let isFirst = calls.withLockedValue { calls in
                calls.append(ids)
                return calls.count == 1
            }
            if isFirst {
                await firstCallStarted.open()
                await gate.wait()
            }
            if count == 1 { return .simpleString("reply-\(ids[0])") }
            return .array(ids.map { .simpleString("reply-\($0)") })
        }
    }

    @Test("finishes arriving while a call is in flight go out together, in order, and each gets its own reply")
    func batchesWhileBusy() async throws {
        let recorder = Recorder()
        let batcher = FinishBatcher { arguments, count in try await recorder.send(arguments, count) }
        try await withThrowingTaskGroup(of: (String, RESPValue).self) { group in
            group.addTask { ("a", try await batcher.finish([.string("a")])) }
            await recorder.firstCallStarted.wait()
            // Five finishes arrive one after another while "a" is in flight.
            for id in ["b", "c", "d", "e", "f"] {
                group.addTask { (id, try await batcher.finish([.string(id)])) }
                #expect(try await eventually { recorder.calls.withLockedValue { $0.count } == 1 })
            }
            // Give the five time to queue up behind "a" (they cannot be sent before it returns).
            try await Task.sleep(for: .milliseconds(200))
            await recorder.gate.open()
            var replies: [String: RESPValue] = [:]
            for try await (id, reply) in group { replies[id] = reply }
            for id in ["a", "b", "c", "d", "e", "f"] { #expect(replies[id] == .simpleString("reply-\(id)")) }
        }
        let calls = recorder.calls.withLockedValue { $0 }
        #expect(calls.first == ["a"])
        // Every one of the five was sent exactly once, in calls after the first, and never more than maxJobs at once.
        #expect(calls.dropFirst().flatMap { $0 }.sorted() == ["b", "c", "d", "e", "f"])
        #expect(calls.count < 6, "the five waiting finishes went out together: \(calls)")
    }

    @Test("moveToFinished with three jobs' arguments finishes each, and a refusal stays with its own job")
    func oneCallManyJobs() async throws {
        try await withQueue("together") { queue, client, _ in
            for id in ["one", "two", "three"] {
                _ = try await queue.add("n", data: ["id": .string(id)], options: .init(jobId: id))
            }
            // Take all three as a worker would, locked with token "t".
            try await client.send(RedisCommand("DEL", "bull:together:wait"))
            try await client.send(RedisCommand("RPUSH", "bull:together:active", "one", "two", "three"))
            for id in ["one", "three"] {
                try await client.send(RedisCommand("SET", .string("bull:together:\(id):lock"), "t"))
            }
            // "two" has no lock: its finish is refused with -2 while the others complete.
            let script = QueueScripts.moveToFinished
            let arguments: [RedisArgument] = ["one", "two", "three"].flatMap { id -> [RedisArgument] in
                [.string(queue.keys.jobKeyPrefix), .string(id), .integer(EpochClock.milliseconds()), "completed",
                 .string("\"done-\(id)\""), "t", -1, 0, "0", 30_000, 0, 0, "", 1, ""]
            }
            let reply = try await client.run(script.script, keys: script.keys(for: queue.keys), arguments: arguments)
            #expect(reply == .array([.integer(0), .integer(-2), .integer(0)]))
            #expect(try await queue.getState("one") == .completed)
            #expect(try await queue.getState("two") == .active)
            #expect(try await queue.getState("three") == .completed)
            #expect(try await hashFields(client, "bull:together:three")["returnvalue"] == "\"done-three\"")
        }
    }

    @Test("a worker at concurrency 20 finishes 500 jobs with fewer script calls than jobs, and every job completes")
    func workerFinishesTogether() async throws {
        try await withQueue("busy") { queue, client, _ in
            let jobs = 500
            try await queue.addBulk((0..<jobs).map { JobRequest("n", data: ["i": .int(Int64($0))]) })
            try await client.send(RedisCommand("CONFIG", "RESETSTAT"))
            let worker = try Worker(queue: "busy", client: client, options: WorkerOptions(concurrency: 20)) { job in
                job.data["i"] ?? .null
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await queue.getJobCounts().completed == jobs })
            }
            let stats = try await client.send(RedisCommand("INFO", "commandstats")).string ?? ""
            let evalsha = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_evalsha:") }
            let calls = evalsha.flatMap { line in
                line.split(separator: ",").first.flatMap { Int($0.split(separator: "=").last ?? "") }
            }
            // Without batching each job is one call (moveToFinished fetching the next), plus the first fetches.
            #expect(try #require(calls) < jobs, "\(evalsha ?? "no evalsha line")")
            let counts = try await queue.getJobCounts()
            #expect(counts.completed == jobs && counts.active == 0 && counts.waiting == 0)
        }
    }
}
