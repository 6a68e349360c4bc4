import Foundation
import Testing
@testable import Tributary
@testable import tributary

/// `run`, `flow show|list|cancel` and the drawing of runs.
@Suite("CLI flows")
struct CLIFlowTests {
    // MARK: Rendering a fixed run

    /// A diamond run frozen at 10:00:05: checkout done, one build failed after retries, one active, package waiting.
    static func fixedRun() -> FlowRun {
        let keys = QueueKeys(queueName: "builds")
        func job(_ id: String, _ fields: [String: String]) -> Job {
            Job(id: "r1.\(id)", queue: keys, fields: ["name": id, "data": "{}", "timestamp": "1700000000000"].merging(fields) { $1 })
        }
        let t0: Int64 = 1_700_000_000_000
        let checkout = job("checkout", ["processedOn": "\(t0 + 100)", "finishedOn": "\(t0 + 350)", "atm": "1",
                                        "returnvalue": #"{"commit":"abc123"}"#])
        let linux = job("build-linux", ["processedOn": "\(t0 + 2_000)", "finishedOn": "\(t0 + 3_500)", "atm": "3",
                                        "failedReason": "command `make` exited with status 2; stderr:\nstep 1\nerror: disk full"])
        let mac = job("build-mac", ["processedOn": "\(t0 + 1_000)", "ats": "2", "atm": "1", "failedReason": "flaky"])
        let package = job("package", [:])
        return FlowRun(id: "r1", flow: "diamond", prefix: "bull", createdAt: t0, cancelledAt: nil, roots: ["package"], nodes: [
            FlowRunNode(id: "checkout", name: "checkout", queue: "builds", jobId: "r1.checkout", needs: [],
                        dependents: ["build-linux", "build-mac", "package"], state: .completed, job: checkout),
            FlowRunNode(id: "build-linux", name: "build", queue: "builds", jobId: "r1.build-linux", needs: ["checkout"],
                        dependents: ["package"], state: .failed, job: linux),
            FlowRunNode(id: "build-mac", name: "build", queue: "builds", jobId: "r1.build-mac", needs: ["checkout"],
                        dependents: ["package"], state: .active, job: mac),
            FlowRunNode(id: "package", name: "package", queue: "builds", jobId: "r1.package",
                        needs: ["build-linux", "build-mac", "checkout"], dependents: [], state: .waitingChildren, job: package),
        ])
    }

    @Test("the tree of a fixed run: marks, durations, attempts, cut results and reasons, a shared node drawn once")
    func treeText() {
        let view = FlowRunView(run: Self.fixedRun())
        let text = FlowRendering.tree(view, now: 1_700_000_005_000)
        #expect(text == """
            run r1 (flow diamond): running · 4 nodes: 1 completed, 1 active, 1 waiting-children, 1 failed
            ◌ package  waiting for its inputs
            ├─ ✘ build-linux  failed after 3 attempts in 1.5s: exited with status 2 … error: disk full
            │  └─ ✔ checkout  completed in 250ms → {"commit":"abc123"}
            ├─ ▶ build-mac  active for 4.0s (attempt 2): flaky
            │  └─ ↪ checkout (shared, shown above)
            └─ ↪ checkout (shared, shown above)
            """)
    }

    @Test("a deduplicated node is drawn with its holder, in the tree and in JSON")
    func deduplicatedNode() throws {
        let keys = QueueKeys(queueName: "dag")
        let t0: Int64 = 1_700_000_000_000
        let fetch = Job(id: "b.fetch", queue: keys, fields: [
            "name": "fetch", "data": "{}", "timestamp": "\(t0)", "processedOn": "\(t0 + 100)", "finishedOn": "\(t0 + 300)",
            "atm": "1", "returnvalue": #"{"rows":42}"#, "flowDedupHolder": "a.fetch"])
        let use = Job(id: "b.use", queue: keys, fields: ["name": "use", "data": "{}", "timestamp": "\(t0)"])
        let run = FlowRun(id: "b", flow: "daily", prefix: "bull", createdAt: t0, cancelledAt: nil, roots: ["use"], nodes: [
            FlowRunNode(id: "fetch", name: "fetch", queue: "dag", jobId: "b.fetch", needs: [], dependents: ["use"],
                        state: .completed, job: fetch),
            FlowRunNode(id: "use", name: "use", queue: "dag", jobId: "b.use", needs: ["fetch"], dependents: [],
                        state: .waiting, job: use),
        ])
        let view = FlowRunView(run: run)
        #expect(FlowRendering.tree(view, now: t0 + 1_000) == """
            run b (flow daily): running · 2 nodes: 1 completed, 1 waiting
            ○ use  waiting
            └─ ✔ fetch  completed (deduplicated: takes the outcome of job a.fetch) in 200ms → {"rows":42}
            """)
        let nodes = FlowRendering.json(view, now: t0 + 1_000)["nodes"]?.arrayValue ?? []
        #expect(nodes.map { $0["deduplicatedBy"] } == ["a.fetch", nil])
    }

    @Test("the same run as Mermaid, Graphviz and JSON")
    func otherFormats() throws {
        let view = FlowRunView(run: Self.fixedRun())
        let now: Int64 = 1_700_000_005_000
        #expect(FlowRendering.mermaid(view, now: now) == """
            flowchart LR
              n0["checkout<br/>✔ completed in 250ms"]
              n1["build-linux<br/>✘ failed in 1.5s"]
              n2["build-mac<br/>▶ active for 4.0s"]
              n3["package<br/>◌ waiting-children"]
              n0 --> n1
              n0 --> n2
              n1 --> n3
              n2 --> n3
              n0 --> n3
              classDef active fill:#bbdefb
              class n2 active
              classDef completed fill:#c8e6c9
              class n0 completed
              classDef failed fill:#ffcdd2
              class n1 failed
              classDef waiting_children fill:#eeeeee
              class n3 waiting_children
            """)
        let dot = FlowRendering.dot(view, now: now)
        #expect(dot.hasPrefix("digraph \"run r1\" {"))
        #expect(dot.contains(##"  "checkout" [label="checkout\n✔ completed in 250ms", fillcolor="#c8e6c9"];"##))
        #expect(dot.contains(#"  "checkout" -> "package";"#))
        let json = FlowRendering.json(view, now: now)
        #expect(json["run"] == "r1" && json["status"] == "running" && json["roots"] == ["package"])
        #expect(json["nodes"]?[0]?["returnvalue"] == ["commit": "abc123"])
        #expect(json["nodes"]?[3]?["needs"] == ["build-linux", "build-mac", "checkout"])
    }

    // MARK: Running flows

    /// Writes `text` as `name` in `directory`; returns the name.
    private func write(_ text: String, _ name: String, in directory: String) throws -> String {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        return name
    }

    static let chain = """
        {"flow": "chain", "queue": "steps",
         "nodes": {
           "first":  {"data": {"n": 2}, "run": ["sh", "-c", "sed 's/.*\\"n\\":\\\\([0-9]*\\\\).*/\\\\1/'"]},
           "second": {"needs": "first", "run": ["sh", "-c", "read line; echo \\"$line\\" | sed 's/.*\\"first\\":\\\\([0-9]*\\\\).*/{\\"double\\": \\\\1}/'"]}
         }}
        """

    @Test("run --work --allow-commands runs the flow here and exits 0 with the final tree; --data reaches the nodes")
    func runAndWork() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, _, server in
                let file = try write(Self.chain, "chain.json", in: directory)
                let result = try await CLIProcess.run(
                    ["run", file, "--run-id", "c1", "--work", "--allow-commands", "--data", #"{"n": 21}"#, "--redis", server.unixURL],
                    in: directory)
                #expect(result.status == 0, "\(result)")
                let lines = result.stdout.split(separator: "\n").map(String.init)
                #expect(lines.first == "c1")
                #expect(lines.contains("run c1 (flow chain): completed · 2 nodes: 2 completed"))
                #expect(lines.contains { $0.hasPrefix("✔ second  completed in ") && $0.hasSuffix(#" → {"double":21}"#) })
                #expect(lines.contains { $0.hasPrefix("└─ ✔ first  completed in ") && $0.hasSuffix(" → 21") })
                #expect(lines.last?.hasPrefix("run c1 completed in ") == true)

                let shown = try await CLIProcess.run(["flow", "show", "c1", "--format", "json", "--redis", server.unixURL], in: directory)
                #expect(try shown.json()["status"] == "completed", "\(shown)")
                let again = try await CLIProcess.run(["run", file, "--run-id", "c1", "--json", "--redis", server.unixURL], in: directory)
                #expect(try again.json() == ["run": "c1", "created": false], "\(again)")
                #expect(again.stderr.contains("exists already"))
            }
        }
    }

    @Test("run --wait exits 1 when the run fails (command steps refused without --allow-commands) and on --timeout")
    func runFailureExitCodes() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, _, server in
                let file = try write(Self.chain, "chain.json", in: directory)
                let refused = try await CLIProcess.run(["run", file, "--run-id", "f1", "--work", "--redis", server.unixURL],
                                                       in: directory)
                #expect(refused.status == 1, "\(refused)")
                #expect(refused.stdout.contains("run f1 (flow chain): failed"))
                #expect(refused.stdout.contains("✘ first  failed in "))
                #expect(refused.stdout.contains("start the worker with --allow-commands"))

                let waiting = try await CLIProcess.run(
                    ["run", file, "--run-id", "t1", "--wait", "--timeout", "1s", "--redis", server.unixURL], in: directory)
                #expect(waiting.status == 1, "\(waiting)")
                #expect(waiting.stdout.contains("run t1 is still running after"))

                let listed = try await CLIProcess.run(["flow", "list", "--json", "--redis", server.unixURL], in: directory)
                let runs = try listed.json().arrayValue ?? []
                #expect(runs.compactMap { $0["run"]?.stringValue } == ["t1", "f1"], "\(listed)")
                #expect(runs.compactMap { $0["status"]?.stringValue } == ["running", "failed"])

                let cancel = try await CLIProcess.run(["flow", "cancel", "t1", "--redis", server.unixURL], in: directory)
                #expect(cancel.status == 0 && cancel.stdout.contains("2 pending node(s) removed"), "\(cancel)")
                let cancelled = try await CLIProcess.run(["flow", "show", "t1", "--redis", server.unixURL], in: directory)
                #expect(cancelled.stdout.hasPrefix("run t1 (flow chain): cancelled"), "\(cancelled)")
                #expect(try await CLIProcess.run(["flow", "cancel", "nope", "--redis", server.unixURL], in: directory).status == 4)
                #expect(try await CLIProcess.run(["flow", "show", "nope", "--redis", server.unixURL], in: directory).status == 4)
            }
        }
    }

    @Test("run refuses an invalid file with positioned problems (exit 2) and submits nothing")
    func runInvalidFile() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("steps") { _, client, server in
                let file = try write(#"{"flow": "x", "queue": "q", "nodes": {"a": {"needs": "b"}}}"#, "bad.json", in: directory)
                let result = try await CLIProcess.run(["run", file, "--redis", server.unixURL], in: directory)
                #expect(result.status == 2, "\(result)")
                #expect(result.stderr.contains("bad.json:1:45: nodes.a.needs: unknown node 'b'"))
                #expect(try await client.send(RedisCommand("EXISTS", "bull:__flows__:runs")).int == 0)
            }
        }
    }

    @Test("flow show --queue draws a BullMQ tree added by a FlowProducer")
    func showBullMQTree() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("reports") { _, client, server in
                let flows = FlowProducer(client: client)
                let root = try await flows.add(FlowJob("report", queue: "reports", options: .init(jobId: "rep-1"), children: [
                    FlowJob("extract", queue: "io", data: ["region": "us"], options: .init(jobId: "ex-us")),
                    FlowJob("extract", queue: "io", data: ["region": "eu"], options: .init(jobId: "ex-eu")),
                ]))
                let result = try await CLIProcess.run(["flow", "show", root.job.id, "--queue", "reports", "--redis", server.unixURL],
                                                      in: directory)
                #expect(result.status == 0, "\(result)")
                #expect(result.stdout == """
                    flow of job rep-1 in queue 'reports': waiting-children · 3 nodes: 2 waiting, 1 waiting-children
                    ◌ report (reports:rep-1)  waiting for its inputs
                    ├─ ○ extract (io:ex-eu)  waiting
                    └─ ○ extract (io:ex-us)  waiting

                    """)
                let missing = try await CLIProcess.run(["flow", "show", "nope", "-q", "reports", "--redis", server.unixURL], in: directory)
                #expect(missing.status == 4)
            }
        }
    }
}
