import Testing
@testable import Tributary

@Suite("Handlers by job name")
struct CLIRouterTests {
    struct Order: Codable, Sendable { let items: [Int] }
    struct Total: Codable, Sendable { let total: Int }

    @Test("worker.handle routes jobs by name; typed handlers decode data; unknown names fail with a clear reason")
    func handleByName() async throws {
        try await withQueue("routed") { queue, client, _ in
            let worker = try Worker(queue: "routed", client: client)
            worker.handle("extract") { job in ["extracted": job.data] }
            worker.handle("sum", as: Order.self) { order, _ in Total(total: order.items.reduce(0, +)) }
            #expect(worker.router.names == ["extract", "sum"])
            let runner = Task { try await worker.run() }
            let extract = try await queue.add("extract", data: "page", options: .init(attempts: 3))
            let sum = try await queue.add("sum", data: ["items": [1, 2, 3]])
            let badSum = try await queue.add("sum", data: ["items": "many"], options: .init(attempts: 3))
            let unknown = try await queue.add("load", options: .init(attempts: 3))
            for id in [extract.id, sum.id] {
                #expect(try await eventually { try await queue.getState(id) == .completed })
            }
            for id in [badSum.id, unknown.id] {
                #expect(try await eventually { try await queue.getState(id) == .failed })
            }
            await worker.close()
            try await runner.value
            #expect(try await queue.getJob(extract.id)?.returnValue == ["extracted": "page"])
            #expect(try await queue.getJob(sum.id)?.returnValue == ["total": 6])
            let failedUnknown = try #require(try await queue.getJob(unknown.id))
            #expect(failedUnknown.failedReason == "no handler for job name 'load' (job \(unknown.id))")
            #expect(failedUnknown.attemptsMade == 1)
            let failedSum = try #require(try await queue.getJob(badSum.id))
            #expect(failedSum.failedReason?.contains("does not fit Order") == true && failedSum.attemptsMade == 1)
        }
    }

    @Test("a worker made with one handler keeps using it for every other name; handle() adds names beside it")
    func fallbackHandler() async throws {
        try await withQueue("routed") { queue, client, _ in
            let worker = try Worker(queue: "routed", client: client) { job in .string("fallback:\(job.name)") }
            worker.handle("special") { _ in "special" }
            let runner = Task { try await worker.run() }
            let plain = try await queue.add("anything")
            let special = try await queue.add("special")
            for id in [plain.id, special.id] {
                #expect(try await eventually { try await queue.getState(id) == .completed })
            }
            await worker.close()
            try await runner.value
            #expect(try await queue.getJob(plain.id)?.returnValue == "fallback:anything")
            #expect(try await queue.getJob(special.id)?.returnValue == "special")
        }
    }
}
