import Foundation
import Synchronization
import Testing
@testable import Tributary

/// Fault injection on real processes: `tributary worker` processes killed with SIGKILL during long command steps,
/// redis-server shut down and killed (AOF on) and restarted mid-run, rounds of CLIENT KILL, and corrupt job hashes
/// written beside a run. Each test asserts that every node completed, that no side effect ran twice beyond what
/// the kills can explain (command steps are at-least-once: a worker killed after its command finished and before
/// the result was stored makes the job run again), that nothing is left active or in no list (the doctor), and
/// that the fan-in saw every input.
///
/// CI runs short versions. The long version is one command: `bash scripts/chaos.sh` (50 kills, 200 nodes, more
/// restarts and rounds; `TRIBUTARY_CHAOS_KILLS`, `TRIBUTARY_CHAOS_NODES`, `TRIBUTARY_CHAOS_ROUNDS` tune it).
@Suite("Chaos", .serialized)
struct ChaosTests {
    static let environment = ProcessInfo.processInfo.environment
    static let kills = environment["TRIBUTARY_CHAOS_KILLS"].flatMap(Int.init) ?? 6
    static let nodes = environment["TRIBUTARY_CHAOS_NODES"].flatMap(Int.init) ?? 16
    static let rounds = environment["TRIBUTARY_CHAOS_ROUNDS"].flatMap(Int.init) ?? 3

    /// A flow of `count` command steps on `work`, each sleeping, then recording its side effect (one line in
    /// `effects/<node>`), then printing `{"n": i}`; and a fan-in on `sink` that saves its stdin.
    static func flow(_ count: Int, effects: String, marker: String) throws -> FlowPlan {
        let steps = (0..<count).map { index in
            let sleep = String(format: "%.1f", 0.3 + Double(index % 7) * 0.2)
            let script = "sleep \(sleep); echo ran >> \(effects)/s\(index); echo '{\"n\": \(index)}' # \(marker)"
            return "\"s\(index)\": {\"queue\": \"work\", \"run\": [\"sh\", \"-c\", \(JSONValue.string(script).serialized())]}"
        }
        let needs = (0..<count).map { "\"s\($0)\"" }.joined(separator: ", ")
        let sink = "cat > \(effects)/sum-input.json; echo 1 >> \(effects)/sum; echo '{\"ok\": true}'"
        return try FlowCompiler.compile("""
            {"flow": "chaos", "queue": "sink", "defaults": {"attempts": 5},
             "nodes": {\(steps.joined(separator: ",\n")),
               "sum": {"needs": [\(needs)], "run": ["sh", "-c", \(JSONValue.string(sink).serialized())]}}}
            """, source: "chaos.json")
    }

    /// Starts a `tributary worker` on both queues with short locks, so a killed worker's jobs come back quickly.
    static func startWorker(_ server: TestRedisServer, in directory: String, number: Int) throws -> pid_t {
        try CLIProcess.spawn(
            ["worker", "--queue", "work", "--queue", "sink", "--allow-commands", "--concurrency", "4",
             "--lock-duration", "3s", "--stalled-interval", "1s", "--max-stalled-count", "1000",
             "--redis", server.unixURL], in: directory, logFile: directory + "/worker-\(number).log")
    }

    /// Lines in each side-effect file, by node.
    static func sideEffects(_ effects: String, count: Int) -> [Int] {
        (0..<count).map { index in
            ((try? String(contentsOfFile: "\(effects)/s\(index)", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
    }

    /// Processes whose command line holds `marker` (command steps still running).
    static func processes(marked marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: data, as: UTF8.self).contains(marker) ? pid : nil
        }
    }

    /// Asserts what every chaos test promises once the run has finished.
    static func checkOutcome(_ client: RedisClient, runId: String, effects: String, count: Int,
                             allowedDuplicates: Int) async throws {
        let run = try #require(try await FlowProducer(client: client).getFlowRun(runId))
        #expect(run.status == .completed, "\(run.nodes.map { ($0.id, $0.state) })")
        let ran = sideEffects(effects, count: count)
        #expect(ran.allSatisfy { $0 >= 1 }, "nodes whose side effect never happened: \(ran.enumerated().filter { $0.element == 0 }.map(\.offset))")
        let duplicates = ran.reduce(0) { $0 + max(0, $1 - 1) }
        #expect(duplicates <= allowedDuplicates, "\(duplicates) side effects ran twice: \(ran)")
        let input = try JSONValue.parse(String(contentsOfFile: effects + "/sum-input.json", encoding: .utf8))
        let inputs = input["inputs"]?.objectValue ?? [:]
        #expect(inputs.count == count && (0..<count).allSatisfy { inputs["s\($0)"]?["n"] == .int(Int64($0)) },
                "the fan-in saw \(inputs.count) of \(count) inputs")
        let report = try await QueueDoctor(client: client).examine()
        #expect(report.isHealthy, "\(report.findings)")
        let counts = try await Queue("work", client: client).getJobCounts()
        #expect(counts.active == 0 && counts.waiting == 0)
        print("chaos: \(count) nodes, \(duplicates) side effect(s) repeated")
    }

    @Test("worker processes killed with SIGKILL mid-step: every node completes, the fan-in sees all, no orphans")
    func workerKills() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("sink") { _, client, server in
                let effects = directory + "/effects", marker = "chaos-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: effects, withIntermediateDirectories: true)
                let receipt = try await FlowProducer(client: client).submit(try Self.flow(Self.nodes, effects: effects, marker: marker))
                // Corrupt jobs written straight into Redis by "another producer", beside the run.
                let corrupt: [(id: String, field: String, value: String)] = [
                    ("bad-atm", "atm", "x"), ("bad-ats", "ats", "x"), ("bad-parent", "parent", "{not json"),
                    ("bad-opts", "opts", #"{"attempts": "three"}"#),
                ]
                for job in corrupt {
                    var fields: [String: String] = ["name": "n", "data": "{}", "opts": "{}", "timestamp": "1",
                                                    "command": #"["true"]"#]
                    fields[job.field] = job.value
                    if job.field == "parent" { fields["parentKey"] = "bull:sink:nobody" }
                    _ = try await client.send(RedisCommand("HSET", arguments: [.string("bull:work:" + job.id)]
                        + fields.flatMap { [RedisArgument.string($0.key), .string($0.value)] }))
                    _ = try await client.send(RedisCommand("LPUSH", "bull:work:wait", .string(job.id)))
                }
                var workers = try (0..<3).map { try Self.startWorker(server, in: directory, number: $0) }
                var started = 3, killed = 0
                var random = DoctorModelTests.SeededGenerator(state: UInt64.random(in: 1...1_000_000))
                let work = try Queue("work", client: client)
                while killed < Self.kills {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 300...1200, using: &random)))
                    guard try await work.getJobCounts().active > 0 else {
                        if try await FlowProducer(client: client).getFlowRun(receipt.runId)?.status != .running { break }
                        continue
                    }
                    let index = Int.random(in: 0..<workers.count, using: &random)
                    kill(workers[index], SIGKILL)
                    _ = ChildProcess.waitForExit(workers[index], timeout: .seconds(10))
                    killed += 1
                    workers[index] = try Self.startWorker(server, in: directory, number: started)
                    started += 1
                }
                let finished = try await eventually(.seconds(600)) {
                    try await FlowProducer(client: client).getFlowRun(receipt.runId)?.status != .running
                }
                for pid in workers { kill(pid, SIGTERM) }
                for pid in workers { _ = await CLIProcess.waitForExit(pid, timeout: .seconds(60)) }
                #expect(finished)
                // Every command step died with its worker: none is left running.
                #expect(try await eventually(.seconds(60)) { Self.processes(marked: marker).isEmpty },
                        "command steps outlived their workers: \(Self.processes(marked: marker))")
                try await Self.checkOutcome(client, runId: receipt.runId, effects: effects, count: Self.nodes,
                                            allowedDuplicates: killed)
                for job in corrupt {
                    let stored = try await work.getJob(job.id)
                    #expect(try await work.getState(job.id) == .failed, "\(job.id): \(String(describing: stored))")
                    #expect(stored?.failedReason?.contains(job.field) == true,
                            "\(job.id) failed with \(stored?.failedReason ?? "nothing"), which does not name \(job.field)")
                }
                print("chaos: \(killed) worker kills, \(corrupt.count) corrupt jobs failed naming their field")
            }
        }
    }

    @Test("redis-server shut down and killed mid-run (AOF) and restarted, and CLIENT KILL rounds: the run completes")
    func redisRestartsAndClientKills() async throws {
        try await withCLIDirectory { directory in
            try await withRedisServer(.init(extraConfig: ["appendfsync always"], appendOnly: true)) { server in
                var configuration = try RedisConfiguration(url: server.unixURL)
                configuration.disconnectedBehavior = .waitForReconnect
                let client = try await RedisClient.connect(configuration)
                let effects = directory + "/effects", marker = "chaos-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: effects, withIntermediateDirectories: true)
                let receipt = try await FlowProducer(client: client).submit(try Self.flow(Self.nodes, effects: effects, marker: marker))
                var workers = try (0..<2).map { try Self.startWorker(server, in: directory, number: $0) }
                for round in 0..<Self.rounds {
                    try await Task.sleep(for: .milliseconds(800))
                    if round % 2 == 0 {
                        try await server.restart()  // SHUTDOWN (graceful) and start again
                    } else {
                        server.kill()
                        try await server.restart()
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    for _ in 0..<3 {
                        _ = try? server.cli(arguments: ["CLIENT", "KILL", "TYPE", "normal"])
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                let finished = try await eventually(.seconds(600)) {
                    try await FlowProducer(client: client).getFlowRun(receipt.runId)?.status != .running
                }
                for pid in workers { kill(pid, SIGTERM) }
                for pid in workers { _ = await CLIProcess.waitForExit(pid, timeout: .seconds(60)) }
                workers.removeAll()
                #expect(finished)
                // A restart can lose an acknowledged completion only without fsync; with appendfsync always a
                // repeat comes from a worker that lost its connection after its command finished.
                try await Self.checkOutcome(client, runId: receipt.runId, effects: effects, count: Self.nodes,
                                            allowedDuplicates: Self.rounds * 8)
                await client.close()
            }
        }
    }
}
