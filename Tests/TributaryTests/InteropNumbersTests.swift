import Testing
@testable import Tributary

/// Numbers Python writes that JSON's 64-bit integers do not cover.
@Suite("Interop with Python bullmq: numbers")
struct InteropNumbersTests {
    @Test("data with integers beyond 64 bits written by Python (2**70) is read as doubles, and written back in shortest form")
    func wideIntegersFromPython() async throws {
        let peer = try PythonPeer.locate()
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.tcpURL)
            configuration.disconnectedBehavior = .waitForReconnect
            let client = try await RedisClient.connect(configuration)
            // Raw JSON text, so that Python's json.loads makes true ints of these literals (2**70, -(2**70), 2**64).
            let jobs = #"[{"name": "wide", "data": {"big": 1180591620717411303424, "neg": -1180591620717411303424, "edge": 18446744073709551616, "small": 7}}]"#
            let added = try await peer.run("add", redisURL: server.tcpURL, queue: "numbers", ["--jobs", jobs])
            let id = try #require(added[0]?["id"]?.stringValue)
            let worker = try Worker(queue: "numbers", client: client) { job in
                ["echo": job.data]
            }
            let runner = Task { try await worker.run() }
            let finished = try await peer.waitFinished(ids: [id], redisURL: server.tcpURL, queue: "numbers", timeout: .seconds(30))
            await worker.close()
            try await runner.value
            let outcome = try #require(finished[id])
            #expect(outcome.state == "completed")
            let expected: JSONValue = ["big": .double(0x1p70), "neg": .double(-0x1p70), "edge": .double(0x1p64), "small": 7]
            #expect(outcome.returnvalue == ["echo": expected])
            let stored = try await client.send(RedisCommand("HGET", .string("bull:numbers:\(id)"), "returnvalue"))
            #expect(stored.string
                == #"{"echo":{"big":1.1805916207174113e+21,"neg":-1.1805916207174113e+21,"edge":1.8446744073709552e+19,"small":7}}"#)
            let job = try #require(try await Queue("numbers", client: client).getJob(id))
            #expect(job.data == expected)
            await client.close()
        }
    }
}
