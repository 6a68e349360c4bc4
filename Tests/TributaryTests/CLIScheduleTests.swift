import Foundation
import Synchronization
import Testing
@testable import Tributary

/// `tributary schedule …` through the executable, on a test redis-server given with --redis.
@Suite("CLI schedules")
struct CLIScheduleTests {
    private func cli(_ arguments: [String], _ server: TestRedisServer, in directory: String) async throws -> CLIResult {
        try await CLIProcess.run(arguments + ["--redis", server.tcpURL], in: directory)
    }

    @Test("schedule add/list/show/remove for a job schedule; a Python-created scheduler is listed too")
    func jobSchedules() async throws {
        let peer = try PythonPeer.locate()
        try await withCLIDirectory { directory in
            try await withQueue("emails", overTCP: true) { queue, _, server in
                let added = try await cli(["schedule", "add", "heartbeat", "--queue", "emails", "--job", "ping",
                                           "--every", "30s", "--data", #"{"to": "ops"}"#, "--limit", "10"], server, in: directory)
                #expect(added.status == 0, "\(added)")
                #expect(added.stdout.hasPrefix("schedule 'heartbeat' on queue 'emails': next "), "\(added)")
                let stored = try #require(try await queue.getJobScheduler("heartbeat"))
                #expect(stored.every == 30_000 && stored.limit == 10 && stored.name == "ping" && stored.templateData == ["to": "ops"])

                _ = try await peer.upsertScheduler("py-nightly", repeat: ["pattern": "0 2 * * *", "tz": "Europe/Berlin"],
                                                   name: "report", redisURL: server.tcpURL, queue: "emails")
                let list = try await cli(["schedule", "list", "--json"], server, in: directory)
                #expect(list.status == 0, "\(list)")
                let entries = try list.json().arrayValue ?? []
                #expect(Set(entries.compactMap { $0["key"]?.stringValue }) == ["heartbeat", "py-nightly"])
                let python = try #require(entries.first { $0["key"] == "py-nightly" })
                #expect(python["source"] == "job report" && python["queue"] == "emails" && python["tz"] == "Europe/Berlin")
                #expect(python["pattern"] == "0 2 * * *" && python["iterationCount"] == 1 && python["next"]?.intValue != nil)
                let text = try await cli(["schedule", "list"], server, in: directory)
                #expect(text.stdout.contains("cron 0 2 * * * Europe/Berlin") && text.stdout.contains("every 30.0s"), "\(text)")
                #expect(text.stdout.contains("1/10"), "\(text)")

                let shown = try await cli(["schedule", "show", "heartbeat"], server, in: directory)
                #expect(shown.status == 0 && shown.stdout.contains("source      job ping"), "\(shown)")
                #expect(shown.stdout.contains(#"data        {"to":"ops"}"#), "\(shown)")

                let stats = try await cli(["stats", "emails", "--json"], server, in: directory)
                #expect(try stats.json()["queues"]?[0]?["schedulers"] == 2, "\(stats)")

                let removed = try await cli(["schedule", "remove", "heartbeat"], server, in: directory)
                #expect(removed.status == 0, "\(removed)")
                #expect(try await queue.getJobScheduler("heartbeat") == nil)
                #expect(try await cli(["schedule", "remove", "heartbeat"], server, in: directory).status == 4)
                #expect(try await cli(["schedule", "show", "heartbeat"], server, in: directory).status == 4)

                let bad = try await cli(["schedule", "add", "x", "--queue", "emails", "--job", "j", "--cron", "0 25 * * *"],
                                        server, in: directory)
                #expect(bad.status == 2 && bad.stderr.contains("hour: 25 is out of range 0-23"), "\(bad)")
            }
        }
    }

    @Test("a flow scheduled every 1s with two racing workers: one run per slot with derived ids; removing it stops the runs")
    func flowEverySecond() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("ticks", overTCP: true) { _, client, server in
                let file = directory + "/tick.json"
                try #"""
                {"flow": "tick", "queue": "ticks", "schedule": {"every": "1s"},
                 "nodes": {"hello": {"data": {"greeting": "hi"}}, "after": {"needs": ["hello"]}}}
                """#.write(toFile: file, atomically: true, encoding: .utf8)
                let nodeRuns = Mutex(0)
                let workers = try (0..<2).map { _ in
                    try Worker(queue: "ticks", client: client, options: .init(concurrency: 2)) { job in
                        nodeRuns.withLock { $0 += 1 }
                        return ["node": .string(job.name)]
                    }
                }
                let runners = workers.map { worker in Task { try await worker.run() } }
                let added = try await cli(["schedule", "add", "tick", "--flow", file], server, in: directory)
                #expect(added.status == 0 && added.stdout.contains("on queue 'ticks'"), "\(added)")
                let producer = FlowProducer(client: client)
                let enough = try await eventually(.seconds(40)) {
                    try await producer.listFlowRuns(flow: "tick").count >= 4
                }
                #expect(enough)
                let removed = try await cli(["schedule", "remove", "tick"], server, in: directory)
                #expect(removed.status == 0, "\(removed)")
                let atRemoval = try await producer.listFlowRuns(flow: "tick").count
                try await Task.sleep(for: .seconds(3))
                for worker in workers { await worker.close() }
                for runner in runners { try await runner.value }

                let runs = try await producer.listFlowRuns(flow: "tick")
                // At most the firing already queued when the schedule was removed adds a run.
                #expect(runs.count <= atRemoval + 1)
                #expect(runs.allSatisfy { $0.schedule == "tick" && $0.id.hasPrefix("tick@") && $0.id.hasSuffix("Z") })
                #expect(Set(runs.map(\.id)).count == runs.count)
                // One run per slot: each firing job made a new run (none found its run already there).
                let completed = try await client.send(RedisCommand("ZRANGE", "bull:ticks:completed", 0, -1)).array ?? []
                let firings = completed.compactMap(\.string).filter { $0.hasPrefix("repeat:tick:") }
                #expect(firings.count == runs.count)
                for firing in firings {
                    let fields = try await hashFields(client, "bull:ticks:\(firing)")
                    let value = try JSONValue.parse(fields["returnvalue"] ?? "null")
                    let slot = try #require(Int64(firing.split(separator: ":").last ?? ""))
                    #expect(value == ["run": .string(FlowSchedule.runId(schedule: "tick", slot: slot)), "created": true])
                }
                // Slots stay on the 1 s grid of the first one.
                let slots = firings.compactMap { Int64($0.split(separator: ":").last ?? "") }.sorted()
                for slot in slots { #expect((slot - slots[0]) % 1000 == 0) }
                // Each run ran both nodes.
                for run in runs {
                    let settled = try await producer.waitForRun(run.id, timeout: .seconds(30))
                    #expect(settled.status == .completed, "\(run.id)")
                }
                #expect(nodeRuns.withLock { $0 } == runs.count * 2)

                let list = try await cli(["flow", "list", "--json"], server, in: directory)
                #expect(try list.json().arrayValue?.allSatisfy { $0["schedule"] == "tick" } == true, "\(list)")
            }
        }
    }

    @Test("a derived run id is the schedule and the slot in UTC, with milliseconds only when the slot has them")
    func runIds() {
        #expect(FlowSchedule.runId(schedule: "nightly", slot: 1_796_086_800_000) == "nightly@20261201T010000Z")
        #expect(FlowSchedule.runId(schedule: "n", slot: 1_796_086_800_250) == "n@20261201T010000.250Z")
        #expect(FlowSchedule.runId(schedule: "n", slot: 5) == "n@19700101T000000.005Z")
    }

    @Test("a flow file's schedule object is checked by validate")
    func scheduleValidation() throws {
        func problems(_ schedule: String) -> [String] {
            let text = #"{"flow": "f", "queue": "q", "schedule": "# + schedule + #", "nodes": {"a": {}}}"#
            do {
                _ = try FlowCompiler.compile(text, source: "f.json")
                return []
            } catch { return error.problems.map(\.message) }
        }
        #expect(problems(#"{"cron": "0 2 * * *", "tz": "Europe/Berlin"}"#) == [])
        #expect(problems(#"{"every": "15m", "limit": 3}"#) == [])
        #expect(problems(#"{"every": "soon"}"#) == [#"schedule: 'every' must be a duration such as "15m", "30s", "2h" or "500ms", got "soon""#])
        #expect(problems(#"{"cron": "0 2 * * *", "tz": "Nowhere/Land"}"#).first?.hasPrefix("schedule: repeat.tz 'Nowhere/Land'") == true)
        #expect(problems(#"{"cron": "* * *"}"#).first?.contains("expected 5 fields") == true)
        #expect(problems(#"{"at": "noon"}"#) == ["schedule: unknown key 'at' (known: cron, tz, every, limit, start, end)"])
    }
}
