import Foundation
import Testing
@testable import Tributary

/// `tributary queue limit`, the limits in `stats`, and `tributary job add --dedupe-id`.
@Suite("CLI limits and deduplicated adds")
struct CLILimitsTests {
    private func cli(_ arguments: [String], _ server: TestRedisServer, in directory: String) async throws -> CLIResult {
        try await CLIProcess.run(arguments + ["--redis", server.unixURL], in: directory)
    }

    @Test("queue limit sets, shows and clears the global concurrency and rate limit; stats shows them")
    func queueLimit() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("api") { queue, _, server in
                try await queue.add("call")
                let set = try await cli(["queue", "limit", "api", "--concurrency", "3", "--rate", "100/1m"], server, in: directory)
                #expect(set.status == 0, "\(set)")
                #expect(set.stdout == "queue 'api': concurrency 3, rate 100/1m\n")
                #expect(try await queue.getGlobalConcurrency() == 3)
                #expect(try await queue.getGlobalRateLimit() == RateLimit(max: 100, duration: .seconds(60)))

                let json = try await cli(["queue", "limit", "api", "--json"], server, in: directory)
                #expect(try json.json() == ["queue": "api", "concurrency": 3, "rateLimit": ["max": 100, "duration": 60000],
                                            "rateLimitedFor": nil])
                let stats = try await cli(["stats", "api"], server, in: directory)
                #expect(stats.stdout.contains("limits of api: concurrency 3, rate 100/1m"), "\(stats)")
                let statsJSON = try await cli(["stats", "api", "--json"], server, in: directory)
                #expect(try statsJSON.json()["queues"]?[0]?["limits"]?["concurrency"] == 3)

                let cleared = try await cli(["queue", "limit", "api", "--clear", "--rate", "5/250ms"], server, in: directory)
                #expect(cleared.stdout == "queue 'api': rate 5/250ms\n", "\(cleared)")
                #expect(try await queue.getGlobalConcurrency() == nil)
                let none = try await cli(["queue", "limit", "api", "--clear"], server, in: directory)
                #expect(none.stdout == "queue 'api': no limits\n")
                let plainStats = try await cli(["stats", "api"], server, in: directory)
                #expect(!plainStats.stdout.contains("limits of"))

                for bad in [["--rate", "ten/1s"], ["--rate", "5"], ["--rate", "0/1s"], ["--concurrency", "0"]] {
                    let refused = try await cli(["queue", "limit", "api"] + bad, server, in: directory)
                    #expect(refused.status == 2, "\(bad): \(refused)")
                }
            }
        }
    }

    @Test("job add --dedupe-id: the second add reports the holder and stores nothing; --json says deduplicated")
    func jobAddDeduplicated() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("reports") { queue, _, server in
                let first = try await cli(["job", "add", "daily", "--queue", "reports", "--data", #"{"day": "2026-12-01"}"#,
                                           "--dedupe-id", "daily-2026-12-01"], server, in: directory)
                #expect(first.status == 0, "\(first)")
                #expect(first.stdout == "added job 1 to queue 'reports'\n")
                let second = try await cli(["job", "add", "daily", "--queue", "reports", "--dedupe-id", "daily-2026-12-01",
                                            "--json"], server, in: directory)
                #expect(second.status == 0, "\(second)")
                #expect(try second.json() == ["queue": "reports", "id": "1", "deduplicated": true])
                let text = try await cli(["job", "add", "daily", "--queue", "reports", "--dedupe-id", "daily-2026-12-01"],
                                         server, in: directory)
                #expect(text.stdout == "deduplicated: job 1 holds deduplication id 'daily-2026-12-01'; nothing was added\n")
                #expect(try await queue.getJobCounts().waiting == 1)
                #expect(try await queue.getJob("1")?.data == ["day": "2026-12-01"])

                let ttl = try await cli(["job", "add", "sync", "--queue", "reports", "--dedupe-id", "sync", "--dedupe-ttl", "10m",
                                         "--dedupe-extend", "--attempts", "3", "--json"], server, in: directory)
                let id = try #require(try ttl.json()["id"]?.stringValue)
                let job = try #require(try await queue.getJob(id))
                #expect(job.options.deduplication == .init(id: "sync", ttl: .seconds(600), extend: true))
                #expect(job.options.attempts == 3 && job.deduplicationId == "sync")

                let misuse = try await cli(["job", "add", "x", "--queue", "reports", "--dedupe-ttl", "1m"], server, in: directory)
                #expect(misuse.status == 2, "\(misuse)")
            }
        }
    }

    @Test("job add --dedupe-keep-last while the holder runs: the add is kept and reported with the id it will get")
    func jobAddKeepLast() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("reports") { queue, client, server in
                let holder = try await queue.add("sync", options: .init(deduplication: .init(id: "sync", keepLastIfActive: true)))
                let gate = Gate()
                let worker = try Worker(queue: "reports", client: client) { job in
                    if job.id == holder.id { await gate.wait() }
                    return job.data
                }
                try await whileRunning([worker]) { () async throws in
                    #expect(try await eventually { try await queue.getState(holder.id) == .active })
                    let kept = try await cli(["job", "add", "sync", "--queue", "reports", "--data", #"{"v": 2}"#,
                                              "--dedupe-id", "sync", "--dedupe-keep-last", "--json"], server, in: directory)
                    let text = try await cli(["job", "add", "sync", "--queue", "reports", "--data", #"{"v": 3}"#,
                                              "--dedupe-id", "sync", "--dedupe-keep-last"], server, in: directory)
                    await gate.open()
                    #expect(kept.status == 0 && text.status == 0, "\(kept) \(text)")
                    #expect(try kept.json() == ["queue": "reports", "id": .string(holder.id), "deduplicated": true, "keptAs": "2"])
                    #expect(text.stdout == "deduplicated: job \(holder.id) holds deduplication id 'sync' and is running; "
                        + "this job is kept and will be added as job 3 when it finishes\n")
                    #expect(try await eventually { try await queue.getState("3") == .completed })
                }
                #expect(try await queue.getJob("3")?.data == ["v": 3])
                #expect(try await queue.getJob("2") == nil)
                let misuse = try await cli(["job", "add", "x", "--queue", "reports", "--dedupe-keep-last"], server, in: directory)
                #expect(misuse.status == 2, "\(misuse)")
            }
        }
    }
}
