import Foundation
import Testing
@testable import Tributary

/// `run` and `flow show` on large and awkward input: --data from a file or stdin, byte-order marks, big runs,
/// the start order of fanned-out nodes, SIGTERM/SIGINT during `run --work`; and `stats` of missing queues.
@Suite("CLI runs")
struct CLIRunTests {
    private func write(_ text: String, _ name: String, in directory: String) throws -> String {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        return name
    }

    private func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test("--data @FILE and --data - (stdin) carry input too large for an argument (1 MB here; 128 KB is the limit)")
    func dataFromFileAndStdin() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, client, server in
                let file = try write(CLIFlowTests.chain, "chain.json", in: directory)
                let blob = String(repeating: "x", count: 1_000_000)
                _ = try write(#"{"blob": ""# + blob + #"", "n": 7}"#, "data.json", in: directory)
                let fromFile = try await CLIProcess.run(["run", file, "--run-id", "d1", "--data", "@data.json", "--redis", server.unixURL],
                                                        in: directory)
                #expect(fromFile.status == 0, "\(fromFile.stderr)")
                let fromStdin = try await CLIProcess.run(["run", file, "--run-id", "d2", "--data", "-", "--redis", server.unixURL],
                                                         in: directory, stdinFile: directory + "/data.json")
                #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
                for run in ["d1", "d2"] {
                    let stored = try await client.send(RedisCommand("HGET", .string("bull:steps:\(run).first"), "data")).string
                    let data = try JSONValue.parse(stored ?? "")
                    #expect(data["blob"]?.stringValue?.count == 1_000_000 && data["n"] == 7, "\(run)")
                }
            }
        }
    }

    @Test("--data problems say what is wrong (not a generic usage) and exit 2")
    func dataErrors() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, _, server in
                let file = try write(CLIFlowTests.chain, "chain.json", in: directory)
                let cases: [(String, String)] = [
                    ("[1, 2]", "error: --data must be a JSON object ({\"key\": value, …}), got an array"),
                    ("{\"a\": ", "error: --data is not valid JSON"),
                    ("@missing.json", "error: --data @missing.json: no such file"),
                ]
                for (argument, message) in cases {
                    let result = try await CLIProcess.run(["run", file, "--data", argument, "--redis", server.unixURL], in: directory)
                    #expect(result.status == 2, "\(result)")
                    #expect(result.stderr.contains(message), "\(result.stderr)")
                    #expect(!result.stderr.contains("Usage"), "\(result.stderr)")
                }
            }
        }
    }

    @Test("a flow file starting with a UTF-8 byte-order mark validates and runs")
    func byteOrderMark() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, _, server in
                let bytes = Data([0xEF, 0xBB, 0xBF]) + Data(CLIFlowTests.chain.utf8)
                try bytes.write(to: URL(fileURLWithPath: directory + "/bom.json"))
                let validated = try await CLIProcess.run(["validate", "bom.json"], in: directory)
                #expect(validated.status == 0, "\(validated)")
                let run = try await CLIProcess.run(["run", "bom.json", "--run-id", "b1", "--data", #"{"n": 1}"#,
                                                    "--redis", server.unixURL], in: directory)
                #expect(run.status == 0 && run.stdout == "b1\n", "\(run)")
            }
        }
    }

    @Test("stats of a queue that does not exist says so; exit 4 when none of the named queues exists")
    func statsMissingQueue() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("present") { queue, _, server in
                _ = try await queue.add("x", data: [:])
                let none = try await CLIProcess.run(["stats", "nosuchqueue", "--redis", server.unixURL], in: directory)
                #expect(none.status == 4, "\(none)")
                #expect(none.stderr.contains("no queue 'nosuchqueue' under prefix 'bull'"))
                #expect(none.stdout.isEmpty)
                let some = try await CLIProcess.run(["stats", "present", "nosuchqueue", "--json", "--redis", server.unixURL],
                                                    in: directory)
                #expect(some.status == 0, "\(some)")
                #expect(some.stderr.contains("no queue 'nosuchqueue'"))
                #expect(try some.json()["queues"]?.arrayValue?.compactMap { $0["queue"]?.stringValue } == ["present"])
            }
        }
    }

    @Test("flow show draws a 3,000-node chain and a 2,000-wide fan-out (the first crashed with exit 139)")
    func showBigRuns() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("big") { _, _, server in
                var nodes = (1...3000).map { #""step-\#($0)": {"name": "step"\#($0 == 1 ? "" : #", "needs": "step-\#($0 - 1)""#)}"# }
                _ = try write(#"{"flow": "chain", "queue": "big", "nodes": {"# + nodes.joined(separator: ",") + "}}", "chain.json", in: directory)
                nodes = [#""split": {}"#] + (1...2000).map { #""process-\#($0)": {"name": "process", "needs": "split"}"# }
                _ = try write(#"{"flow": "fan", "queue": "big", "nodes": {"# + nodes.joined(separator: ",") + "}}", "fan.json", in: directory)
                for (file, run) in [("chain.json", "c1"), ("fan.json", "f1")] {
                    let submitted = try await CLIProcess.run(["run", file, "--run-id", run, "--redis", server.unixURL], in: directory)
                    #expect(submitted.status == 0, "\(submitted)")
                }
                let chain = try await CLIProcess.run(["flow", "show", "c1", "--redis", server.unixURL], in: directory)
                #expect(chain.status == 0, "\(chain.stderr)")
                let lines = chain.stdout.split(separator: "\n")
                #expect(lines.first == "run c1 (flow chain): running · 3000 nodes: 1 waiting, 2999 waiting-children")
                #expect(lines.filter { $0.contains("◌ step-") || $0.contains("○ step-") }.count == 3000)
                #expect(lines.contains { $0.hasSuffix("└─ ⤷ step-2967 (continued below)") })

                let fan = try await CLIProcess.run(["flow", "show", "f1", "--redis", server.unixURL], in: directory)
                #expect(fan.status == 0, "\(fan.stderr)")
                // The 2,000 sinks are the roots: one line, with split (which they all need) under it.
                #expect(fan.stdout == """
                    run f1 (flow fan): running · 2001 nodes: 1 waiting, 2000 waiting-children
                    ◌ process ×2000 (process-1 … process-2000)  waiting for their inputs
                    └─ ○ split  waiting

                    """)
                let expanded = try await CLIProcess.run(["flow", "show", "f1", "--expand", "--redis", server.unixURL], in: directory)
                #expect(expanded.stdout.split(separator: "\n").count == 1 + 2000 * 2)
                let json = try await CLIProcess.run(["flow", "show", "c1", "--format", "json", "--redis", server.unixURL], in: directory)
                #expect(try json.json()["nodes"]?.arrayValue?.count == 3000)
            }
        }
    }

    @Test("fanned-out nodes start in declaration order (process-1 first, not process-30)")
    func fanOutOrder() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("fan") { _, _, server in
                let nodes = [#""split": {"run": ["true"]}"#] + (1...30).map {
                    #""process-\#($0)": {"name": "process", "needs": "split", "run": ["sh", "-c", "echo process-\#($0) >> order.txt"]}"#
                }
                let file = try write(#"{"flow": "fan", "queue": "fan", "nodes": {"# + nodes.joined(separator: ",") + "}}", "fan.json", in: directory)
                let result = try await CLIProcess.run(["run", file, "--work", "--allow-commands", "--concurrency", "1",
                                                       "--redis", server.unixURL], in: directory)
                #expect(result.status == 0, "\(result.stderr)")
                let order = log(directory + "/order.txt").split(separator: "\n").map(String.init)
                #expect(order == (1...30).map { "process-\($0)" })
            }
        }
    }

    /// A flow whose first node writes its pid to child.pid and then runs `tail` (a shell command), then `after`.
    private func interruptible(_ tail: String, in directory: String) throws -> String {
        try write("""
            {"flow": "slow", "queue": "slow", "nodes": {
              "slow": {"run": ["sh", "-c", "echo $$ > child.pid; \(tail)"]},
              "after": {"needs": "slow", "run": ["true"]}}}
            """, "slow.json", in: directory)
    }

    /// The pid in child.pid, once the command has written it.
    private func childPid(in directory: String) async throws -> pid_t? {
        var pid: pid_t?
        _ = try await eventually(.seconds(60)) {
            pid = pid_t(log(directory + "/child.pid").trimmingCharacters(in: .whitespacesAndNewlines))
            return pid != nil
        }
        return pid
    }

    @Test("run --work on SIGTERM: a message, the running command is stopped after --grace-period, not orphaned; exit 5")
    func sigterm() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("slow") { _, _, server in
                let file = try interruptible("exec sleep 120", in: directory)
                let logFile = directory + "/run.log"
                let pid = try CLIProcess.spawn(["run", file, "--run-id", "s1", "--work", "--allow-commands", "--grace-period", "1s",
                                                "--redis", server.unixURL], in: directory, logFile: logFile)
                let child = try #require(try await childPid(in: directory))
                #expect(processIsAlive(child))
                kill(pid, SIGTERM)
                let status = await CLIProcess.waitForExit(pid, timeout: .seconds(60))
                if status == nil { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
                #expect(status == 5, "\(log(logFile))")
                let output = log(logFile)
                #expect(output.contains("received SIGTERM: stopping the workers"))
                #expect(output.contains("stopped; run s1 did not end here"))
                #expect(!processIsAlive(child), "the command's sleep outlived `run --work`")
                if processIsAlive(child) { kill(child, SIGKILL) }
            }
        }
    }

    @Test("run --work on SIGINT: the running command finishes within the grace period, no new job starts; exit 5")
    func sigint() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("slow") { queue, _, server in
                let file = try interruptible("sleep 2; echo finished", in: directory)
                let logFile = directory + "/run.log"
                let pid = try CLIProcess.spawn(["run", file, "--run-id", "i1", "--work", "--allow-commands", "--grace-period", "60s",
                                                "--redis", server.unixURL], in: directory, logFile: logFile)
                _ = try #require(try await childPid(in: directory))
                kill(pid, SIGINT)
                let status = await CLIProcess.waitForExit(pid, timeout: .seconds(90))
                if status == nil { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
                #expect(status == 5, "\(log(logFile))")
                #expect(log(logFile).contains("received SIGINT: stopping the workers"))
                #expect(try await queue.getJob("i1.slow")?.returnValue == "finished")
                #expect(try await queue.getState("i1.after") == .waiting)
            }
        }
    }
}
