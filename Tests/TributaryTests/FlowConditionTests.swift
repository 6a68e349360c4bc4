import Foundation
import Testing
@testable import Tributary
@testable import tributary

@Suite("Flow conditions (when)")
struct FlowConditionTests {
    /// Compiles one node `x` needing `check`, with the given `when`, and returns its condition.
    static func condition(_ when: String) throws -> FlowCondition {
        let plan = try compiledFlow(flowWithNodes(#""check": {}, "x": {"needs": "check", "when": \#(when)}"#))
        return try #require(plan.node("x")?.condition)
    }

    static let result: JSONValue = ["ok": true, "n": 5, "ratio": 0.5, "tag": "b", "none": nil, "rows": [1, 2, 3]]

    @Test("each operator, true and false, against one input's result")
    func operators() throws {
        let cases: [(String, Bool)] = [
            (#"{"input": "check", "path": "ok", "equals": true}"#, true),
            (#"{"input": "check", "path": "ok", "equals": false}"#, false),
            (#"{"input": "check", "path": "n", "equals": 5.0}"#, true),           // numbers by value
            (#"{"input": "check", "path": "tag", "notEquals": "b"}"#, false),
            (#"{"input": "check", "path": "tag", "notEquals": "c"}"#, true),
            (#"{"input": "check", "path": "missing", "notEquals": 1}"#, true),    // missing differs from anything
            (#"{"input": "check", "path": "tag", "in": ["a", "b"]}"#, true),
            (#"{"input": "check", "path": "tag", "in": ["a", "c"]}"#, false),
            (#"{"input": "check", "path": "n", "greaterThan": 4}"#, true),
            (#"{"input": "check", "path": "n", "greaterThan": 5}"#, false),
            (#"{"input": "check", "path": "tag", "greaterThan": 0}"#, false),     // not a number
            (#"{"input": "check", "path": "ratio", "lessThan": 0.6}"#, true),
            (#"{"input": "check", "path": "ratio", "lessThan": 0.5}"#, false),
            (#"{"input": "check", "path": "none", "exists": true}"#, true),       // null is there
            (#"{"input": "check", "path": "missing", "exists": true}"#, false),
            (#"{"input": "check", "path": "missing", "exists": false}"#, true),
            (#"{"input": "check", "path": "rows.2", "equals": 3}"#, true),        // array index in the path
            (#"{"input": "check", "equals": {"tag": "b"}}"#, false),              // the whole result
            (#"{"all": [{"input": "check", "path": "ok", "equals": true}, {"input": "check", "path": "n", "lessThan": 9}]}"#, true),
            (#"{"all": [{"input": "check", "path": "ok", "equals": true}, {"input": "check", "path": "n", "lessThan": 1}]}"#, false),
            (#"{"any": [{"input": "check", "path": "ok", "equals": false}, {"input": "check", "path": "n", "lessThan": 9}]}"#, true),
            (#"{"any": [{"input": "check", "path": "ok", "equals": false}, {"input": "check", "exists": false}]}"#, false),
            (#"{"not": {"input": "check", "path": "ok", "equals": true}}"#, false),
        ]
        for (when, expected) in cases {
            let condition = try Self.condition(when)
            #expect(condition.holds(for: ["check": Self.result]) == expected, "\(when)")
            // Stored on the job and read back, it is the same condition (5.0 is stored as 5: same JSON text).
            let stored = try #require(FlowConditionReader.stored(condition.json.serialized()), "\(when)")
            #expect(stored.json.serialized() == condition.json.serialized(), "\(when)")
            #expect(stored.holds(for: ["check": Self.result]) == expected, "\(when)")
        }
        // A missing input (skipped, or failed under ignore) is a missing value.
        #expect(try Self.condition(#"{"input": "check", "exists": false}"#).holds(for: [:]))
        #expect(try !Self.condition(#"{"input": "check", "equals": null}"#).holds(for: [:]))
    }

    @Test("static checks: unknown operator, input not in needs, operand types, malformed combinations")
    func validation() throws {
        let problems = flowProblems(flowWithNodes(#"""
            "check": {}, "other": {},
            "a": {"needs": "check", "when": {"input": "check", "path": "ok", "equal": true}},
            "b": {"needs": "check", "when": {"input": "other", "exists": true}},
            "c": {"needs": "check", "when": {"input": "check", "greaterThan": "5"}},
            "d": {"needs": "check", "when": {"input": "check", "in": 3}},
            "e": {"needs": "check", "when": {"input": "check", "exists": "yes"}},
            "f": {"needs": "check", "when": {"input": "check", "equals": 1, "lessThan": 2}},
            "g": {"needs": "check", "when": {"all": [], "input": "check"}},
            "h": {"needs": "check", "when": {"any": []}},
            "i": {"needs": "check", "when": {"not": {"input": 7, "exists": true}}},
            "j": {"needs": "check", "when": "check.ok"}
            """#))
        #expect(problems == [
            "flow.json: nodes.a.when: unknown operator 'equal' in condition; did you mean 'equals'?",
            "flow.json: nodes.a.when: a condition needs one operator: equals, notEquals, in, greaterThan, lessThan, exists",
            #"flow.json: nodes.b.when.input: condition reads 'other', which node 'b' does not need: add it to "needs""#,
            "flow.json: nodes.c.when.greaterThan: 'greaterThan' takes a number, got a string",
            "flow.json: nodes.d.when.in: 'in' takes an array of values, got an integer",
            "flow.json: nodes.e.when.exists: 'exists' takes true or false, got a string",
            #"flow.json: nodes.f.when: a condition takes one operator, found 'equals', 'lessThan'; combine tests with "all" or "any""#,
            "flow.json: nodes.g.when: 'all' must be alone in its object, found also 'input'",
            "flow.json: nodes.h.when.any: 'any' needs at least one condition",
            "flow.json: nodes.i.when.not.input: must be the id of a needed node (a string), got an integer",
            #"flow.json: nodes.j.when: a condition must be an object such as {"input": "check", "path": "ok", "equals": true}, got a string"#,
        ])
        let codes = flowError(flowWithNodes(#""check": {}, "x": {"needs": "check", "when": {"input": "nope", "exists": true}}"#))?
            .problems.map(\.code)
        #expect(codes == [.inputNotNeeded])
    }

    @Test("validate prints condition problems with file:line:column")
    func validatePositions() async throws {
        try await withCLIDirectory { directory in
            let text = """
                {"flow": "w", "queue": "q", "nodes": {
                  "check": {},
                  "publish": {"needs": "check",
                              "when": {"input": "chek", "path": "ok", "equals": true}}}}
                """
            try text.write(toFile: directory + "/when.json", atomically: true, encoding: .utf8)
            let result = try await CLIProcess.run(["validate", "when.json"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains(
                #"when.json:4:24: nodes.publish.when.input: condition reads 'chek', which node 'publish' does not need: add it to "needs"; did you mean 'check'?"#),
                "\(result.stderr)")
        }
    }

    static let skipping = """
        {"flow": "skip", "queue": "w", "nodes": {
          "check":   {"data": {"value": {"ok": false, "n": 3}}},
          "publish": {"needs": "check", "when": {"input": "check", "path": "ok", "equals": true}},
          "count":   {"needs": "check", "when": {"input": "check", "path": "n", "greaterThan": 2}},
          "report":  {"needs": ["check", "publish", "count"]},
          "notify":  {"needs": "publish", "when": {"input": "publish", "exists": true}},
          "final":   {"needs": ["report", "notify"]}}}
        """

    @Test("a false condition skips the node: no handler, no attempt; dependents see it skipped; skips propagate by exists")
    func skipPropagation() async throws {
        try await withQueue("w") { queue, client, _ in
            let flows = FlowProducer(client: client)
            try await flows.submit(try compiledFlow(Self.skipping), runId: "s1")
            let seen = SeenJobs()
            let worker = try Worker(queue: "w", client: client, options: .init(concurrency: 4)) { job in
                await seen.record(job)
                return job.data["value"] ?? .string(job.flowNodeId ?? "?")
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await queue.waitUntilFinished("s1.final") == "final")
            }
            let ran = Set(await seen.names)
            #expect(ran == ["check", "count", "report", "final"])
            let report = try #require(await seen.jobs["report"])
            #expect(report.skippedInputs == ["publish"])
            #expect(Set(report.inputs.keys) == ["check", "count"] && report.inputs["publish"] == nil)
            #expect(try await seen.jobs["final"]?.skippedInputs == ["notify"])

            for node in ["publish", "notify"] {
                let job = try #require(try await queue.getJob("s1.\(node)"))
                #expect(try await queue.getState(job.id) == .completed)
                #expect(job.fields["skipped"] == "1" && job.returnValue == .null)
                #expect(job.attemptsMade == 0 && job.attemptsStarted == 0)
            }
            let record = try await hashFields(client, "bull:__flows__:run:s1")
            #expect(record["node:publish"] == "skipped" && record["node:notify"] == "skipped")
            let run = try #require(try await flows.getFlowRun("s1"))
            #expect(run.status == .completed)
        }
    }

    @Test("a command step's stdin lists the skipped inputs")
    func commandStepSeesSkipped() async throws {
        try await withQueue("w") { queue, client, _ in
            let flow = """
                {"flow": "c", "queue": "w", "nodes": {
                  "check": {"run": ["sh", "-c", "cat >/dev/null; echo '{\\"ok\\": false}'"]},
                  "publish": {"needs": "check", "when": {"input": "check", "path": "ok", "equals": true},
                              "run": ["sh", "-c", "echo published"]},
                  "report": {"needs": ["check", "publish"], "run": ["sh", "-c", "cat"]}}}
                """
            try await FlowProducer(client: client).submit(try compiledFlow(flow), runId: "c1")
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                let stdin = try await queue.waitUntilFinished("c1.report")
                #expect(stdin == ["data": [:], "inputs": ["check": ["ok": false]], "skippedInputs": ["publish"]])
            }
        }
    }

    @Test("flows/conditional.json runs with command steps: publish is skipped, archive runs, report sees both")
    func shippedConditional() async throws {
        try await withQueue("conditional") { queue, client, _ in
            let plan = try FlowCompiler.compile(contentsOfFile: flowsDirectory.appendingPathComponent("conditional.json").path)
            let flows = FlowProducer(client: client)
            try await flows.submit(plan, runId: "c")
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await queue.waitUntilFinished("c.report")
                    == ["data": [:], "inputs": ["archive": "archived"], "skippedInputs": ["publish"]])
            }
            #expect(try await flows.getFlowRun("c")?.status == .completed)
        }
    }
}
