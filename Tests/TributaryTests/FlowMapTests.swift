import Foundation
import Synchronization
import Testing
@testable import Tributary

/// list → convert (a map over list.files) → merge, all in queue "m"; `list` returns its data's `value`.
func mapFlow(_ map: String, extraNodes: String = "") -> String {
    """
    {"flow": "mr", "queue": "m", "nodes": {
      "list":    {},
      "convert": {"needs": "list", "map": \(map)},
      "merge":   {"needs": "convert"}\(extraNodes)}}
    """
}

/// The handler of map flows: `list` returns `{"files": <items>}`; an item returns its item × 10 (a number) or fails
/// when the item is in `failing`; other nodes return their inputs as an object. Counts the items it saw by index.
func mapHandler(items: JSONValue, failing: Set<Int64> = [], seenItems: ItemCounter? = nil) -> Worker.Handler {
    { job in
        if let index = job.mapIndex {
            seenItems?.record(index)
            let item = try job.mapItem(as: Int64.self)
            if failing.contains(item) { throw UnrecoverableError("item \(item) is bad") }
            return .int(item * 10)
        }
        if job.flowNodeId == "list" { return ["files": items] }
        return .object(JSONObject(uniqueKeysWithValues: job.inputs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }
}

/// A worker running ``mapHandler(items:failing:seenItems:)``.
func mapWorker(_ queue: String, client: RedisClient, items: JSONValue, failing: Set<Int64> = [],
               seenItems: ItemCounter? = nil, concurrency: Int = 8, options: WorkerOptions? = nil) throws -> Worker {
    try Worker(queue: queue, client: client, options: options ?? .init(concurrency: concurrency),
               handler: mapHandler(items: items, failing: failing, seenItems: seenItems))
}

/// How many times each item index reached a handler.
final class ItemCounter: Sendable {
    private let counts = Mutex<[Int: Int]>([:])
    func record(_ index: Int) { counts.withLock { $0[index, default: 0] += 1 } }
    var snapshot: [Int: Int] { counts.withLock { $0 } }
}

@Suite("Flow map nodes")
struct FlowMapTests {
    @Test("maps of 0, 1 and 37 items: the result is the item results in item order", arguments: [0, 1, 37])
    func sizes(count: Int) async throws {
        try await withQueue("m") { queue, client, _ in
            let items = JSONValue.array((0..<count).map { .int(Int64($0)) })
            try await FlowProducer(client: client).submit(try compiledFlow(mapFlow(#"{"items": "list.files"}"#)), runId: "r")
            let counter = ItemCounter()
            try await withWorkers([try mapWorker("m", client: client, items: items, seenItems: counter)]) { () async throws in
                let merged = try await queue.waitUntilFinished("r.merge")
                #expect(merged == ["convert": .array((0..<count).map { .int(Int64($0) * 10) })])
            }
            #expect(counter.snapshot == Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, 1) }))
            // Each item is an ordinary BullMQ child of the map node's job, with its index and item.
            if count > 0 {
                let item = try await hashFields(client, "bull:m:r.convert/0")
                #expect(item["parentKey"] == "bull:m:r.convert" && item["mapIndex"] == "0" && item["mapItem"] == "0")
                #expect(try JSONValue.parse(item["parent"]!) == ["id": "r.convert", "queueKey": "bull:m", "idof": true])
            }
            #expect(try await queue.getJob("r.convert")?.returnValue?.arrayValue?.count == count)
        }
    }

    @Test("items that are not an array fail the map node, naming the path and the type found")
    func notAnArray() async throws {
        try await withQueue("m") { queue, client, _ in
            try await FlowProducer(client: client).submit(try compiledFlow(mapFlow(#"{"items": "list.files"}"#)), runId: "r")
            try await withWorkers([try mapWorker("m", client: client, items: ["a": 1])]) { () async throws in
                await #expect(throws: JobFailedError.self) { try await queue.waitUntilFinished("r.merge") }
            }
            let map = try #require(try await queue.getJob("r.convert"))
            #expect(map.failedReason == "map node 'convert': 'list.files' must be an array of items, found an object")
            #expect(try await queue.getState("r.convert") == .failed)
        }
    }

    @Test("tolerated failures reach dependents with index and reason; more fail the map node")
    func toleratedFailures() async throws {
        try await withQueue("m") { queue, client, _ in
            let items = JSONValue.array((0..<10).map { .int(Int64($0)) })
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(mapFlow(#"{"items": "list.files", "toleratedFailures": 3}"#)), runId: "ok")
            try await flows.submit(try compiledFlow(mapFlow(#"{"items": "list.files", "toleratedFailures": "20%"}"#)), runId: "no")
            let seen = SeenJobs()
            let handler = mapHandler(items: items, failing: [0, 4, 8])
            let worker = try Worker(queue: "m", client: client, options: .init(concurrency: 8)) { job in
                if job.flowNodeId == "merge" { await seen.record(job) }
                return try await handler(job)
            }
            try await withWorkers([worker]) { () async throws in
                let merged = try await queue.waitUntilFinished("ok.merge")
                #expect(merged == ["convert": [nil, 10, 20, 30, nil, 50, 60, 70, nil, 90]])
                await #expect(throws: JobFailedError.self) { try await queue.waitUntilFinished("no.merge") }
            }
            let merge = try #require(await seen.jobs["merge"])
            #expect(merge.itemFailures["convert"] == [0, 4, 8].map { MapItemFailure(index: $0, reason: "item \($0) is bad") })
            #expect(merge.inputFailures["convert"] == "3 of 10 items failed (tolerated): [0] item 0 is bad; [4] item 4 is bad; [8] item 8 is bad")
            let failed = try #require(try await queue.getJob("no.convert"))
            #expect(failed.failedReason == "map node 'convert': 3 of 10 items failed, 2 tolerated: [0] item 0 is bad; [4] item 4 is bad; [8] item 8 is bad")
        }
    }

    @Test("a map's results feed a second map")
    func mapOfMap() async throws {
        try await withQueue("m") { queue, client, _ in
            let extra = #"""
                ,
                  "again": {"needs": "convert", "map": {"items": "convert"}},
                  "total": {"needs": "again"}
                """#
            try await FlowProducer(client: client).submit(
                try compiledFlow(mapFlow(#"{"items": "list.files"}"#, extraNodes: extra)), runId: "r")
            try await withWorkers([try mapWorker("m", client: client, items: [1, 2, 3])]) { () async throws in
                #expect(try await queue.waitUntilFinished("r.total") == ["again": [100, 200, 300]])
            }
        }
    }

    @Test("a worker that dies in the middle of an expansion: the next one adds each item exactly once")
    func expansionResumesAfterDeath() async throws {
        try await withQueue("m") { queue, client, _ in
            let count = 1_200
            let literal = JSONValue.array((0..<count).map { .int(Int64($0)) }).serialized()
            let flow = #"{"flow": "k", "queue": "m", "nodes": {"convert": {"map": {"items": \#(literal)}, "opts": {"removeOnComplete": true}}, "merge": {"needs": "convert"}}}"#
            try await FlowProducer(client: client).submit(try compiledFlow(flow), runId: "k")
            // A worker takes the map job (as takeNextJob does, with a lock) and adds the first chunk, then dies.
            #expect(try await client.send(RedisCommand("RPOPLPUSH", "bull:m:wait", "bull:m:active")).string == "k.convert")
            _ = try await client.send(RedisCommand("SET", "bull:m:k.convert:lock", "dead-worker", "PX", "1500"))
            var job = try #require(try await queue.getJob("k.convert"))
            job.handle = JobHandle(queue: queue, token: "dead-worker", events: WorkerEventHub())
            let map = try #require(FlowMap(stored: job.fields["flowMap"]!))
            try await MapNodeRunner.expand(job, items: try MapNodeRunner.list(of: map, inputs: [:], skipped: [], node: "convert"),
                                           map: map, maxChunks: 1)
            let partial = try await hashFields(client, "bull:m:k.convert")["mapExpanded"].flatMap(Int.init) ?? 0
            #expect(partial > 0 && partial < count)

            // The stalled check gives the map job to a live worker once the dead one's lock expired. Meanwhile the
            // live worker runs the items already added, and removes them (removeOnComplete): they must not come back.
            let counter = ItemCounter()
            let options = WorkerOptions(concurrency: 16, lockDuration: .seconds(30), stalledInterval: .milliseconds(500))
            let worker = try mapWorker("m", client: client, items: [], seenItems: counter, options: options)
            try await withWorkers([worker]) { () async throws in
                let merged = try await queue.waitUntilFinished("k.merge")
                #expect(merged["convert"] == .array((0..<count).map { .int(Int64($0) * 10) }))
            }
            #expect(counter.snapshot.count == count && counter.snapshot.values.allSatisfy { $0 == 1 })
            let added = try await client.send(RedisCommand("XRANGE", "bull:m:events", "-", "+")).array ?? []
            let itemAdds = added.filter { entry in
                let fields = (entry.array?[1].array ?? []).fieldPairs
                return fields["event"] == "added" && fields["jobId"]?.hasPrefix("k.convert/") == true
            }
            #expect(itemAdds.count == count)
        }
    }

    @Test("maxConcurrency: never more items in flight than allowed, measured in the handler; held items all run")
    func maxConcurrency() async throws {
        try await withQueue("m") { queue, client, _ in
            let flow = #"{"flow": "c", "queue": "m", "nodes": {"convert": {"map": {"items": [\#((0..<30).map(String.init).joined(separator: ", "))], "maxConcurrency": 3}}, "merge": {"needs": "convert"}}}"#
            try await FlowProducer(client: client).submit(try compiledFlow(flow), runId: "c")
            let inFlight = Mutex<(now: Int, peak: Int)>((0, 0))
            let worker = try Worker(queue: "m", client: client, options: .init(concurrency: 12)) { job in
                guard let index = job.mapIndex else { return .object(JSONObject(uniqueKeysWithValues: job.inputs.map { ($0.key, $0.value) })) }
                inFlight.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                try await Task.sleep(for: .milliseconds(40))
                inFlight.withLock { $0.now -= 1 }
                return .int(Int64(index))
            }
            try await withWorkers([worker]) { () async throws in
                let merged = try await queue.waitUntilFinished("c.merge")
                #expect(merged["convert"] == .array((0..<30).map { .int(Int64($0)) }))
            }
            let peak = inFlight.withLock { $0.peak }
            #expect(peak <= 3 && peak >= 2, "peak \(peak)")
            #expect(try await client.send(RedisCommand("EXISTS", "bull:m:c.convert:held")) == .integer(0))
        }
    }

    @Test("flows/map-reduce.json runs with command steps: items get item and index on stdin")
    func shippedMapReduce() async throws {
        try await withQueue("map-reduce") { queue, client, _ in
            let plan = try FlowCompiler.compile(contentsOfFile: flowsDirectory.appendingPathComponent("map-reduce.json").path)
            try await FlowProducer(client: client).submit(plan, runId: "mr")
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await queue.waitUntilFinished("mr.total") == ["words": 5, "letters": 24])
            }
            #expect(try await queue.getJob("mr.measure")?.returnValue?[1] == ["word": "kiwi", "letters": 4])
        }
    }
}

@Suite("Flow map nodes: 10,000 items")
struct FlowMapLargeTests {
    @Test("a map of 10,000 items completes with every result in item order")
    func tenThousand() async throws {
        try await withQueue("m") { queue, client, _ in
            let count = 10_000
            let items = JSONValue.array((0..<count).map { .int(Int64($0)) })
            try await FlowProducer(client: client).submit(
                try compiledFlow(mapFlow(#"{"items": "list.files", "maxConcurrency": 100}"#)), runId: "big")
            let counter = ItemCounter()
            let worker = try mapWorker("m", client: client, items: items, seenItems: counter, concurrency: 50)
            try await withWorkers([worker]) { () async throws in
                let merged = try await queue.waitUntilFinished("big.merge")
                #expect(merged["convert"] == .array((0..<count).map { .int(Int64($0) * 10) }))
            }
            #expect(counter.snapshot.count == count && counter.snapshot.values.allSatisfy { $0 == 1 })
        }
    }
}
