import Foundation
import Testing
@testable import Tributary

extension InteropTests {
    @Test("a map node's items are processed by Python bullmq workers; their results reach the merge in item order")
    func pythonWorkersProcessMapItems() async throws {
        try await withPeer { server, client, peer in
            let count = 12
            let files = JSONValue.array((0..<count).map { .string("f\($0).csv") })
            let plan = try compiledFlow("""
                {"flow": "py-map", "queue": "sw", "nodes": {
                  "list":    {},
                  "convert": {"needs": "list", "queue": "items", "map": {"items": "list.files"}},
                  "merge":   {"needs": "convert"}}}
                """)
            let flows = FlowProducer(client: client)
            try await flows.submit(plan, runId: "p")
            let items = try Queue("items", client: client)
            let nodes = try Worker(queue: "sw", client: client) { job in
                let value: JSONValue = job.flowNodeId == "list" ? ["files": files] : .object(JSONObject(uniqueKeysWithValues: job.inputs.map { ($0.key, $0.value) }))
                return value
            }
            try await withWorkers([nodes]) { () async throws in
                // A Tributary worker takes the map job and expands it; its limiter (1 job per 10 minutes) keeps it
                // from taking any item, so every item is left to Python.
                let expander = try Worker(queue: "items", client: client, options: .init(
                    concurrency: 1, limiter: .init(max: 1, duration: .seconds(600)))) { _ in
                    throw UnrecoverableError("the expanding worker must not run items")
                }
                let expanding = Task { try await expander.run() }
                let deadline = ContinuousClock.now + .seconds(90)
                // convert waits for list in waiting-children first: wait until it is expanded and waits for items.
                func expanded() async throws -> Bool {
                    guard try await hashFields(client, "bull:items:p.convert")["mapExpanded"] == String(count) else { return false }
                    return try await items.getState("p.convert") == .waitingChildren
                }
                while try await !expanded() {
                    if ContinuousClock.now > deadline { Issue.record("the map node was not expanded within 90 s"); break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                await expander.close()
                try await expanding.value
                #expect(try await client.send(RedisCommand("LLEN", "bull:items:wait")) == .integer(Int64(count)))

                // Python bullmq 3.4.4 workers run the items: they read the item from the job hash.
                let python = try await peer.work(redisURL: server.tcpURL, queue: "items", count: count, concurrency: 4,
                                                 mapItems: true, timeout: .seconds(90))
                #expect(python.failed.isEmpty)
                #expect(Set(python.completed.map(\.id)) == Set((0..<count).map { "p.convert/\($0)" }))

                // The last item moved the map job back to wait (BullMQ's own Lua); a Tributary worker gathers the
                // results and the merge runs with them.
                let gatherer = try Worker(queue: "items", client: client) { _ in
                    throw UnrecoverableError("no item should be left for Tributary")
                }
                try await withWorkers([gatherer]) { () async throws in
                    let run = try await flows.waitForRun("p", timeout: .seconds(90))
                    #expect(run.status == .completed)
                }
            }
            let merged = try #require(try await Queue("sw", client: client).getJob("p.merge")?.returnValue)
            let expected = JSONValue.array((0..<count).map { index in
                ["by": "python", "index": .int(Int64(index)), "item": .string("f\(index).csv")]
            })
            #expect(merged == ["convert": expected])
        }
    }
}
