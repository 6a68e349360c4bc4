import Foundation
import Testing
@testable import Tributary

/// `stats`, `job …` and `queue …` through the `tributary` executable, on a test redis-server given with --redis.
@Suite("CLI stats, job and queue commands")
struct CLIAdminTests {
    /// Runs `tributary arguments --redis <server>` in `directory`.
    private func cli(_ arguments: [String], _ server: TestRedisServer, in directory: String) async throws -> CLIResult {
        try await CLIProcess.run(arguments + ["--redis", server.unixURL], in: directory)
    }

    @Test("stats --json counts every state of every discovered queue; named queues only when given")
    func statsJSON() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("alpha") { alpha, client, server in
                try await alpha.add("a")
                try await alpha.add("b")
                try await alpha.add("later", options: .init(delay: .seconds(3600)))
                try await alpha.add("urgent", options: .init(priority: 5))
                let beta = try Queue("beta", client: client)
                try await beta.add("c")
                try await beta.pause()
                try await beta.upsertJobScheduler("yearly", repeat: .cron("0 0 1 1 *"))
                try await Queue("other", client: client, prefix: "elsewhere").add("d")

                let all = try await cli(["stats", "--json"], server, in: directory)
                #expect(all.status == 0, "\(all)")
                #expect(try all.json() == [
                    "queues": [
                        ["queue": "alpha", "paused": false, "counts": [
                            "waiting": 2, "active": 0, "delayed": 1, "prioritized": 1, "waiting-children": 0,
                            "completed": 0, "failed": 0, "paused": 0,
                        ], "limits": ["concurrency": nil, "rateLimit": nil, "rateLimitedFor": nil], "schedulers": 0],
                        ["queue": "beta", "paused": true, "counts": [
                            "waiting": 0, "active": 0, "delayed": 1, "prioritized": 0, "waiting-children": 0,
                            "completed": 0, "failed": 0, "paused": 1,
                        ], "limits": ["concurrency": nil, "rateLimit": nil, "rateLimitedFor": nil], "schedulers": 1],
                    ],
                ])
                let one = try await cli(["stats", "beta", "--json"], server, in: directory)
                #expect(try one.json()["queues"]?.arrayValue?.compactMap { $0["queue"]?.stringValue } == ["beta"])
                let prefixed = try await cli(["stats", "--json", "--prefix", "elsewhere"], server, in: directory)
                #expect(try prefixed.json()["queues"]?[0]?["queue"] == "other")
                let text = try await cli(["stats"], server, in: directory)
                let lines = text.stdout.split(separator: "\n")
                #expect(lines.first?.hasPrefix("QUEUE") == true && lines.count == 3, "\(text)")
                #expect(lines.contains { $0.hasPrefix("beta (paused)") })
            }
        }
    }

    @Test("job show prints state, data, failure and log; --json has everything; a missing job exits 4")
    func jobShow() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("shown") { queue, client, server in
                let job = try await queue.add("resize", data: ["width": 640], options: .init(attempts: 2))
                let worker = try Worker(queue: "shown", client: client) { job in
                    try await job.log("starting resize")
                    throw UnrecoverableError("image is corrupt")
                }
                let runner = Task { try await worker.run() }
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
                await worker.close()
                try await runner.value

                let text = try await cli(["job", "show", job.id, "--queue", "shown"], server, in: directory)
                #expect(text.status == 0, "\(text)")
                #expect(text.stdout.hasPrefix("job \(job.id) (resize) in queue 'shown': failed"))
                #expect(text.stdout.contains("attempts:   1 made, 1 started, 2 allowed"))
                #expect(text.stdout.contains("\"width\": 640"))
                #expect(text.stdout.contains("failure:    image is corrupt"))
                #expect(text.stdout.contains("log (1 lines):\n    starting resize"))

                let json = try await cli(["job", "show", job.id, "--queue", "shown", "--json"], server, in: directory).json()
                #expect(json["state"] == "failed" && json["data"] == ["width": 640] && json["name"] == "resize")
                #expect(json["failedReason"] == "image is corrupt" && json["logs"] == ["starting resize"])
                #expect(json["fields"]?["atm"] == "1")

                let missing = try await cli(["job", "show", "999", "--queue", "shown"], server, in: directory)
                #expect(missing.status == 4, "\(missing)")
                #expect(missing.stderr.contains("job 999 does not exist in queue 'shown'"))
            }
        }
    }

    @Test("job retry, promote and remove move the job; refusals exit 1, missing jobs 4, usage errors 2")
    func jobActions() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("acts") { queue, client, server in
                let failing = try await queue.add("flaky")
                let worker = try Worker(queue: "acts", client: client) { _ in throw UnrecoverableError("nope") }
                let runner = Task { try await worker.run() }
                #expect(try await eventually { try await queue.getState(failing.id) == .failed })
                await worker.close()
                try await runner.value

                let retry = try await cli(["job", "retry", failing.id, "--queue", "acts"], server, in: directory)
                #expect(retry.status == 0, "\(retry)")
                #expect(try await queue.getState(failing.id) == .waiting)
                let refused = try await cli(["job", "retry", failing.id, "--queue", "acts"], server, in: directory)
                #expect(refused.status == 1 && refused.stderr.contains("it is waiting"), "\(refused)")

                let delayed = try await queue.add("later", options: .init(delay: .seconds(3600)))
                let promote = try await cli(["job", "promote", delayed.id, "-q", "acts"], server, in: directory)
                #expect(promote.status == 0, "\(promote)")
                #expect(try await queue.getState(delayed.id) == .waiting)

                let remove = try await cli(["job", "remove", delayed.id, "--queue", "acts"], server, in: directory)
                #expect(remove.status == 0, "\(remove)")
                #expect(try await queue.getJob(delayed.id) == nil)
                #expect(try await cli(["job", "remove", delayed.id, "--queue", "acts"], server, in: directory).status == 4)

                let usage = try await cli(["job", "show", failing.id], server, in: directory)
                #expect(usage.status == 2 && usage.stderr.contains("--queue"), "\(usage)")
                let badDuration = try await cli(["queue", "clean", "acts", "--grace", "soon"], server, in: directory)
                #expect(badDuration.status == 2, "\(badDuration)")
            }
        }
    }

    @Test("queue pause, resume, drain, clean and obliterate; obliterate refuses active jobs without --force")
    func queueActions() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("admin") { queue, client, server in
                #expect(try await cli(["queue", "pause", "admin"], server, in: directory).status == 0)
                #expect(try await queue.isPaused())
                #expect(try await cli(["queue", "resume", "admin"], server, in: directory).status == 0)
                #expect(try await !queue.isPaused())

                try await queue.addBulk([JobRequest("a"), JobRequest("b"), JobRequest("c", options: .init(delay: .seconds(60)))])
                let drain = try await cli(["queue", "drain", "admin", "--json"], server, in: directory)
                #expect(try drain.json() == ["queue": "admin", "removed": 2], "\(drain)")
                #expect(try await queue.getJobCounts().delayed == 1)

                let done = try await queue.add("done")
                let started = AsyncStream<Void>.makeStream()
                let worker = try Worker(queue: "admin", client: client) { job in
                    if job.name == "hold" {
                        started.continuation.yield()
                        try await Task.sleep(for: .seconds(60))
                    }
                    return .null
                }
                let runner = Task { try await worker.run() }
                #expect(try await eventually { try await queue.getState(done.id) == .completed })
                let clean = try await cli(["queue", "clean", "admin", "--type", "completed", "--grace", "0", "--json"], server, in: directory)
                #expect(try clean.json() == ["queue": "admin", "type": "completed", "removed": [.string(done.id)]], "\(clean)")

                let hold = try await queue.add("hold")
                var iterator = started.stream.makeAsyncIterator()
                await iterator.next()
                #expect(try await queue.getState(hold.id) == .active)
                let refused = try await cli(["queue", "obliterate", "admin"], server, in: directory)
                #expect(refused.status == 1 && refused.stderr.contains("1 active job(s)"), "\(refused)")
                #expect(try await queue.getJob(hold.id) != nil)
                let forced = try await cli(["queue", "obliterate", "admin", "--force"], server, in: directory)
                #expect(forced.status == 0, "\(forced)")
                await worker.close(force: true)
                _ = try? await runner.value
                let left = try await client.send(RedisCommand(
                    "EXISTS", "bull:admin:id", "bull:admin:meta", "bull:admin:delayed", .string(hold.key), .string(done.key)))
                #expect(left.int == 0)
            }
        }
    }

    @Test("an unreachable Redis exits 3")
    func unreachable() async throws {
        try await withCLIDirectory { directory in
            let result = try await CLIProcess.run(["stats", "--redis", "redis://127.0.0.1:1"], in: directory)
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.contains("cannot reach Redis at 127.0.0.1:1"))
        }
    }
}
