import Foundation
import Testing
@testable import Tributary

/// A flag set once, read from hooks.
private actor Flag {
    private(set) var isSet = false
    func set() { isSet = true }
}

/// Obliterating a queue while its worker finishes jobs.
@Suite("Obliterate with a live worker")
struct ObliterateTests {
    @Test("obliterate --force while a worker finishes jobs between its steps ends with no key of the queue")
    func obliterateWhileJobsFinish() async throws {
        try await withQueue("busy") { _, client, _ in
            // Where the events stream falls in SCAN's order is random; the active list and a job (hash and lock) must
            // outlive it for the scenario (a finish writing the stream again behind the cursor). Run it until it
            // happened. A round exercises it with odds of about 0.4 (measured: 30 runs needed 1 to 11 rounds, 7 of
            // them more than 2), and CI once saw 6 rounds in a row miss, so up to 100 rounds (a round takes 0.1 s on
            // a quiet machine, about 3 s at load 10); most runs need one or two.
            var exercised = false
            var rounds = 0
            for round in 0..<100 where !exercised {
                rounds += 1
                let name = "busy\(round)"
                let queue = try Queue(name, client: client)
                let jobs = 40
                try await queue.addBulk((0..<jobs).map { JobRequest("n\($0)") })
                let gate = Gate()
                var options = WorkerOptions(concurrency: jobs)
                options.stalledInterval = .seconds(600)
                let worker = try Worker(queue: name, client: client, options: options) { _ in
                    await gate.wait()
                    return "ok"
                }
                let released = Flag()
                try await withWorkers([worker]) { () async throws in
                    #expect(try await eventually { try await queue.getJobCounts().active == jobs })
                    try await queue.obliterate(force: true, batch: 2) {
                        guard await !released.isSet,
                              try await client.send(RedisCommand("EXISTS", .string(queue.keys.key(.events)))).int == 0 else { return }
                        // A job can finish only while its hash, its lock and the active list are all still there.
                        let active = try await client.send(RedisCommand("EXISTS", .string(queue.keys.key(.active)))).int
                        let alive = try await client.pipeline((1...jobs).map {
                            RedisCommand("EXISTS", .string(queue.keys.job("\($0)")), .string(queue.keys.job("\($0)") + ":lock"))
                        })
                        guard active == 1, alive.contains(where: { $0.int == 2 }) else { return }
                        await released.set()
                        await gate.open()
                        // The jobs whose hash is still there complete and write the events stream again.
                        #expect(try await eventually {
                            try await client.send(RedisCommand("EXISTS", .string(queue.keys.key(.events)))).int == 1
                        })
                    }
                    let left = try await client.send(RedisCommand("KEYS", .string("bull:\(name):*"))).array ?? []
                    #expect(left.isEmpty, "keys left behind: \(left.compactMap(\.string).sorted())")
                    await gate.open()
                }
                exercised = await released.isSet
            }
            #expect(exercised, "none of \(rounds) rounds had a job hash outlive the events stream")
        }
    }
}
