import Foundation
import Synchronization
import Testing
@testable import Tributary

/// A map-item handler that fails the chosen indices on their first run only (a failure a retry fixes), counts every
/// run per index (the side effect), tracks items in flight, and returns item × 10. Other nodes return their inputs.
final class FlakyItems: Sendable {
    private let runs = Mutex<[Int: Int]>([:])
    private let flight = Mutex<(now: Int, peak: Int)>((0, 0))
    let failFirst: Set<Int>

    init(failFirst: Set<Int>) { self.failFirst = failFirst }

    var counts: [Int: Int] { runs.withLock { $0 } }
    var peakInFlight: Int { flight.withLock { $0.peak } }

    func worker(_ queue: String, client: RedisClient, items: JSONValue) throws -> Worker {
        try Worker(queue: queue, client: client, options: .init(concurrency: 8)) { job in
            guard let index = job.mapIndex else {
                if job.flowNodeId == "list" { return ["files": items] }
                return .object(JSONObject(uniqueKeysWithValues: job.inputs.map { ($0.key, $0.value) }))
            }
            self.flight.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            defer { self.flight.withLock { $0.now -= 1 } }
            let run = self.runs.withLock { counts in counts[index, default: 0] += 1; return counts[index]! }
            try await Task.sleep(for: .milliseconds(5))
            if self.failFirst.contains(index), run == 1 { throw UnrecoverableError("item \(index) failed on its first run") }
            return .int(try job.mapItem(as: Int64.self) * 10)
        }
    }
}

@Suite("Flow map nodes: retry and redrive")
struct FlowMapRedriveTests {
    static let failing: Set<Int> = [2, 5, 9]

    @Test("flow retry of a failed map re-runs only its failed items; the merge gets every result in order")
    func redriveRerunsFailedItems() async throws {
        try await withQueue("m") { queue, client, _ in
            let count = 12
            let items = JSONValue.array((0..<count).map { .int(Int64($0)) })
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(mapFlow(#"{"items": "list.files", "maxConcurrency": 3}"#)), runId: "r")
            let flaky = FlakyItems(failFirst: Self.failing)
            try await withWorkers([try flaky.worker("m", client: client, items: items)]) { () async throws in
                let first = try await flows.waitForRun("r", timeout: .seconds(90))
                #expect(first.status == .failed)
                #expect(try await queue.getState("r.convert") == .failed)

                let retry = try await flows.retryFlowRun("r")
                #expect(retry.rerun == 2 && retry.kept == 1)   // convert and merge run again; list keeps its result
                let second = try await flows.waitForRun("r", timeout: .seconds(90))
                #expect(second.status == .completed)
            }
            // Failed items ran twice, the others once; list ran once.
            #expect(flaky.counts == Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, Self.failing.contains($0) ? 2 : 1) }))
            #expect(flaky.peakInFlight <= 3, "peak \(flaky.peakInFlight)")
            let merged = try #require(try await queue.getJob("r.merge")?.returnValue)
            #expect(merged == ["convert": .array((0..<count).map { .int(Int64($0) * 10) })])
            let map = try await hashFields(client, "bull:m:r.convert")
            #expect(map["mapRerun"] == nil)
            #expect(try await client.send(RedisCommand("HLEN", "bull:m:r.convert:failed")) == .integer(0))
            #expect(try await hashFields(client, "bull:__flows__:run:r")["mapFailures:convert"] == nil)
        }
    }

    @Test("job retry of a failed map node re-runs only its failed items, also those whose jobs were removed")
    func ownRetryRerunsFailedItems() async throws {
        try await withQueue("m") { queue, client, _ in
            let count = 8
            let literal = JSONValue.array((0..<count).map { .int(Int64($0)) }).serialized()
            let flow = #"{"flow": "o", "queue": "m", "nodes": {"convert": {"map": {"items": \#(literal)}}}}"#
            try await FlowProducer(client: client).submit(try compiledFlow(flow), runId: "o")
            let flaky = FlakyItems(failFirst: [1, 6])
            try await withWorkers([try flaky.worker("m", client: client, items: [])]) { () async throws in
                await #expect(throws: JobFailedError.self) { try await queue.waitUntilFinished("o.convert") }
                // One failed item is removed: it must be stored again from the list.
                try await queue.removeJob("o.convert/1")
                #expect(try await client.send(RedisCommand("EXISTS", "bull:m:o.convert/1")) == .integer(0))
                try await queue.retryJob("o.convert")
                #expect(try await queue.waitUntilFinished("o.convert") == .array((0..<count).map { .int(Int64($0) * 10) }))
            }
            #expect(flaky.counts == Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, [1, 6].contains($0) ? 2 : 1) }))
        }
    }

    @Test("a map whose items fail again after a redrive fails again, naming only the items that failed this time")
    func redriveFailsAgain() async throws {
        try await withQueue("m") { queue, client, _ in
            let items = JSONValue.array((0..<6).map { .int(Int64($0)) })
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(mapFlow(#"{"items": "list.files"}"#)), runId: "f")
            let counter = ItemCounter()
            // Item 4 always fails.
            let worker = try mapWorker("m", client: client, items: items, failing: [4], seenItems: counter)
            try await withWorkers([worker]) { () async throws in
                #expect(try await flows.waitForRun("f", timeout: .seconds(90)).status == .failed)
                try await flows.retryFlowRun("f")
                #expect(try await flows.waitForRun("f", timeout: .seconds(90)).status == .failed)
            }
            #expect(counter.snapshot == [0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 1])
            let map = try #require(try await queue.getJob("f.convert"))
            #expect(map.failedReason == "map node 'convert': 1 of 6 items failed, 0 tolerated: [4] item 4 is bad")
        }
    }
}
