import Foundation
import Testing
@testable import Tributary

/// Compiles `text`, recording a test issue (and returning `nil`) when it has problems.
func compiledFlow(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> FlowPlan? {
    do {
        return try FlowCompiler.compile(text, source: "flow.json")
    } catch {
        Issue.record("flow did not compile:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The repository's flows/ directory.
let flowsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("flows")

@Suite("Flow files: compiling")
struct FlowFileTests {
    static let nightlyReport = """
        { "flow": "nightly-report",
          "queue": "reports",
          "prefix": "bull",
          "defaults": {"attempts": 3, "backoff": {"type": "exponential", "delay": 1000}},
          "nodes": {
            "extract-us": {"name": "extract", "queue": "io", "data": {"region": "us"}},
            "extract-eu": {"name": "extract", "queue": "io", "data": {"region": "eu"}},
            "merge":      {"name": "merge", "needs": ["extract-us", "extract-eu"]},
            "publish":    {"needs": "merge", "opts": {"priority": 1}, "onFailure": "fail"} } }
        """

    @Test("the contract's example: order, roots, dependents, names, queues, data")
    func nightlyReportShape() throws {
        let plan = try #require(compiledFlow(Self.nightlyReport))
        #expect(plan.flow == "nightly-report")
        #expect(plan.prefix == "bull")
        #expect(plan.nodes.map(\.id) == ["extract-us", "extract-eu", "merge", "publish"])
        #expect(plan.roots == ["publish"])
        #expect(plan.nodes.map(\.name) == ["extract", "extract", "merge", "publish"])
        #expect(plan.nodes.map(\.queue) == ["io", "io", "reports", "reports"])
        #expect(plan.node("merge")?.needs == ["extract-us", "extract-eu"])
        #expect(plan.node("extract-us")?.dependents == ["merge"])
        #expect(plan.node("merge")?.dependents == ["publish"])
        #expect(plan.node("publish")?.dependents == [])
        #expect(plan.node("extract-eu")?.data == ["region": "eu"])
        #expect(plan.node("merge")?.data == [:])
        #expect(plan.nodes.allSatisfy { $0.onFailure == .fail && $0.command == nil })
        #expect(plan.node("nope") == nil)
    }

    @Test("defaults are merged into every node's options, the node winning key by key")
    func optionsMerge() throws {
        let plan = try #require(compiledFlow(Self.nightlyReport))
        let backoff = JobOptions.Backoff.exponential(delay: .milliseconds(1000))
        #expect(plan.node("publish")?.options == JobOptions(priority: 1, attempts: 3, backoff: backoff, onFailure: .fail))
        #expect(plan.node("extract-us")?.options == JobOptions(attempts: 3, backoff: backoff, onFailure: .fail))

        let override = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "defaults": {"attempts": 3, "delay": 50, "backoff": 100},
             "nodes": {"a": {"opts": {"attempts": 5, "backoff": {"type": "fixed", "delay": 7, "jitter": 0.5}}}}}
            """))
        #expect(override.node("a")?.options == JobOptions(
            delay: .milliseconds(50), attempts: 5, backoff: .fixed(delay: .milliseconds(7), jitter: 0.5), onFailure: .fail))
    }

    @Test("every option JobOptions knows is read, with BullMQ's encodings")
    func allOptions() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {"a": {"opts": {
              "jobId": "report-2024", "delay": 1500, "priority": 2097151, "lifo": true, "attempts": 4,
              "backoff": {"type": "my-strategy", "delay": 20}, "removeOnComplete": {"count": 10},
              "removeOnFail": {"age": 3600, "count": 5}, "timestamp": 1700000000000, "timeout": 30000}}}}
            """))
        #expect(plan.node("a")?.options == JobOptions(
            jobId: "report-2024", delay: .milliseconds(1500), priority: 2_097_151, lifo: true, attempts: 4,
            backoff: .custom(type: "my-strategy", delay: .milliseconds(20)), removeOnComplete: .keepLast(10),
            removeOnFail: .keepFor(age: .seconds(3600), count: 5), timestamp: 1_700_000_000_000,
            timeout: .milliseconds(30000), onFailure: .fail))
        let flags = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {"a": {"opts": {"removeOnComplete": true, "removeOnFail": false}}}}
            """))
        #expect(flags.node("a")?.options.removeOnComplete == .removeAll)
        #expect(flags.node("a")?.options.removeOnFail == .keepAll)
    }

    @Test("dependency order keeps file order where it can; dependents are listed in file order")
    func stableOrder() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {
              "report": {"needs": ["b", "a"]}, "b": {"needs": "c"}, "a": {}, "c": {}, "audit": {"needs": "a"}}}
            """))
        #expect(plan.nodes.map(\.id) == ["a", "c", "b", "report", "audit"])
        #expect(plan.node("report")?.needs == ["b", "a"])
        #expect(plan.node("a")?.dependents == ["report", "audit"])
        #expect(plan.roots == ["report", "audit"])
    }

    @Test("a file with several sinks is one plan with several roots; a lone node is its own root")
    func severalRoots() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {"x": {}, "y": {}, "z": {"needs": "x"}}}
            """))
        #expect(plan.roots == ["y", "z"])
        #expect(plan.nodes.count == 3)
    }

    @Test("data: absent is {}, anything given is kept as is (null, scalars, arrays)")
    func data() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {"none": {}, "null": {"data": null}, "number": {"data": 0.1},
              "list": {"data": [1, "two"]}}}
            """))
        #expect(plan.nodes.map(\.data) == [[:], .null, .double(0.1), [1, "two"]])
    }

    @Test("onFailure maps to FailurePolicy; run becomes the command")
    func policiesAndCommands() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {
              "a": {"onFailure": "ignore", "run": ["sh", "-c", "echo 1"]}, "b": {"onFailure": "remove"},
              "c": {"onFailure": "continue"}, "d": {"needs": ["a", "b", "c"], "onFailure": "fail"}, "e": {"needs": "d"}}}
            """))
        #expect(plan.nodes.map(\.onFailure) == [.ignore, .remove, .continue, .fail, .fail])
        #expect(plan.nodes.map(\.options.onFailure) == [.ignore, .remove, .continue, .fail, .fail])
        #expect(plan.node("a")?.command == ["sh", "-c", "echo 1"])
        #expect(plan.node("b")?.command == nil)
        #expect(FailurePolicy.allCases.map(\.bullMQOption)
            == ["failParentOnFailure", "ignoreDependencyOnFailure", "removeDependencyOnFailure", "continueParentOnFailure", nil])
    }

    @Test("a node's queue overrides the file's; a prefix may carry a hash tag; nodes need no default queue")
    func queuesAndPrefix() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "prefix": "{tributary}", "nodes": {"a": {"queue": "one"}, "b": {"queue": "two", "needs": "a"}}}
            """))
        #expect(plan.prefix == "{tributary}")
        #expect(plan.nodes.map(\.queue) == ["one", "two"])
        let noPrefix = try #require(compiledFlow(#"{"flow": "f", "queue": "q", "nodes": {"a": {}}}"#))
        #expect(noPrefix.prefix == nil)
    }

    @Test("ids with dots or spaces are fine (only ':' is not)")
    func unusualIds() throws {
        let plan = try #require(compiledFlow("""
            {"flow": "f", "queue": "q", "nodes": {"step 1.a": {}, "ünïcode": {"needs": "step 1.a"}}}
            """))
        #expect(plan.nodes.map(\.id) == ["step 1.a", "ünïcode"])
    }

    @Test("a long chain and a wide fan-in compile, in order")
    func largeFlows() throws {
        let chain = (0..<2000).map { $0 == 0 ? "\"n0\": {}" : "\"n\($0)\": {\"needs\": \"n\($0 - 1)\"}" }
        let plan = try #require(compiledFlow(#"{"flow": "chain", "queue": "q", "nodes": {\#(chain.reversed().joined(separator: ","))}}"#))
        #expect(plan.nodes.map(\.id) == (0..<2000).map { "n\($0)" })
        #expect(plan.roots == ["n1999"])

        let leaves = (0..<1000).map { "\"leaf-\($0)\": {}" }.joined(separator: ",")
        let needs = (0..<1000).map { "\"leaf-\($0)\"" }.joined(separator: ",")
        let fan = try #require(compiledFlow(#"{"flow": "fan", "queue": "q", "nodes": {\#(leaves), "sum": {"needs": [\#(needs)]}}}"#))
        #expect(fan.node("sum")?.needs.count == 1000)
        #expect(fan.nodes.last?.id == "sum")
    }

    @Test("a plan is a value: compiling twice gives equal plans")
    func equalPlans() throws {
        let first = try #require(compiledFlow(Self.nightlyReport))
        let second = try #require(compiledFlow(Self.nightlyReport))
        #expect(first == second)
    }

    @Test("compile(_: JSONValue) takes an already parsed document")
    func fromJSONValue() throws {
        let document: JSONValue = ["flow": "f", "queue": "q", "nodes": ["a": [:], "b": ["needs": "a"]]]
        let plan = try FlowCompiler.compile(document, source: "built in code")
        #expect(plan.nodes.map(\.id) == ["a", "b"])
    }

    @Test("compile(contentsOfFile:) reads the file and names it in problems")
    func fromFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.json")
        try Self.nightlyReport.write(to: good, atomically: true, encoding: .utf8)
        #expect(try FlowCompiler.compile(contentsOfFile: good.path).nodes.count == 4)

        let bad = directory.appendingPathComponent("bad.json")
        try #"{"flow": "f", "queue": "q", "nodes": {}}"#.write(to: bad, atomically: true, encoding: .utf8)
        let error = try #require(throws: FlowFileError.self) { try FlowCompiler.compile(contentsOfFile: bad.path) }
        #expect(error.description == "\(bad.path): nodes: the flow has no nodes")

        let missing = directory.appendingPathComponent("missing.json").path
        let unreadable = try #require(throws: FlowFileError.self) { try FlowCompiler.compile(contentsOfFile: missing) }
        #expect(unreadable.problems.map(\.code) == [.unreadableFile])
        #expect(unreadable.description == "\(missing): cannot read the file: No such file or directory")
    }
}

@Suite("Flow files: BullMQ's nested shape")
struct FlowFileBullMQShapeTests {
    @Test("a FlowJob tree compiles: children are needs, names are ids, the root is the one root")
    func tree() throws {
        let plan = try #require(compiledFlow("""
            {"name": "report", "queueName": "reports", "prefix": "{bull}", "data": {"day": 1},
             "children": [
               {"name": "extract", "queueName": "io", "opts": {"failParentOnFailure": true, "attempts": 2},
                "children": [{"name": "download", "queueName": "io", "opts": {"continueParentOnFailure": true}}]},
               {"name": "audit", "queueName": "audits", "opts": {"ignoreDependencyOnFailure": true, "removeDependencyOnFailure": false}},
               {"name": "cleanup", "queueName": "audits", "opts": {"removeDependencyOnFailure": true}, "prefix": "{bull}"}]}
            """))
        #expect(plan.flow == "report")
        #expect(plan.prefix == "{bull}")
        #expect(plan.nodes.map(\.id) == ["download", "extract", "audit", "cleanup", "report"])
        #expect(plan.roots == ["report"])
        #expect(plan.node("report")?.needs == ["extract", "audit", "cleanup"])
        #expect(plan.node("extract")?.needs == ["download"])
        #expect(plan.nodes.filter { $0.id != "report" }.allSatisfy { $0.dependents.count == 1 })
        #expect(plan.node("download")?.dependents == ["extract"])
        #expect(plan.nodes.map(\.onFailure) == [.continue, .fail, .ignore, .remove, .keepWaiting])
        #expect(plan.nodes.allSatisfy { $0.options.onFailure == $0.onFailure })
        #expect(plan.node("extract")?.options == JobOptions(attempts: 2, onFailure: .fail))
        #expect(plan.node("report")?.data == ["day": 1])
        #expect(plan.node("audit")?.data == [:])
        #expect(plan.node("audit")?.queue == "audits")
    }

    @Test("repeated names get path ids: root, <parent id>/children[i]")
    func pathIds() throws {
        let plan = try #require(compiledFlow("""
            {"name": "extract", "queueName": "q", "children": [
              {"name": "extract", "queueName": "q", "children": [{"name": "fetch", "queueName": "q"}]},
              {"name": "root", "queueName": "q"},
              {"name": "a/b", "queueName": "q", "children": [{"name": "x:y", "queueName": "q"}]}]}
            """))
        #expect(plan.flow == "extract")
        #expect(Set(plan.nodes.map(\.id)) == ["root", "root/children[0]", "fetch", "root/children[1]",
                                              "root/children[2]", "root/children[2]/children[0]"])
        #expect(plan.node("root/children[0]")?.name == "extract")
        #expect(plan.node("root/children[1]")?.name == "root")
        #expect(plan.node("root/children[2]/children[0]")?.name == "x:y")
        #expect(plan.node("root")?.needs == ["root/children[0]", "root/children[1]", "root/children[2]"])
    }

    @Test("a lone root is a one-node flow")
    func loneRoot() throws {
        let plan = try #require(compiledFlow(#"{"name": "solo", "queueName": "q", "children": []}"#))
        #expect(plan.nodes.map(\.id) == ["solo"])
        #expect(plan.node("solo")?.onFailure == .keepWaiting)
    }
}

@Suite("Flow files: shipped files")
struct FlowFileShippedTests {
    /// Every flows/*.json that is a flow (not the schema itself).
    static func flowFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: flowsDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" && $0.lastPathComponent != "schema.json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every example flow compiles, and every node has a command step")
    func examplesCompile() throws {
        let files = try Self.flowFiles()
        #expect(files.map(\.lastPathComponent) == ["conditional.json", "diamond.json", "failure-policies.json", "fan-in.json",
                                                   "hello.json", "map-reduce.json", "nightly.json"])
        for file in files {
            let plan = try FlowCompiler.compile(contentsOfFile: file.path)
            #expect(!plan.nodes.isEmpty)
            #expect(plan.nodes.allSatisfy { $0.command != nil }, "\(file.lastPathComponent)")
            let document = try JSONValue.parse(bytes: Array(Data(contentsOf: file)))
            #expect(document["$schema"] == "./schema.json", "\(file.lastPathComponent) points editors at the schema")
        }
        let fan = try FlowCompiler.compile(contentsOfFile: flowsDirectory.appendingPathComponent("fan-in.json").path)
        #expect(fan.node("sum")?.needs.count == 10)
        let diamond = try FlowCompiler.compile(contentsOfFile: flowsDirectory.appendingPathComponent("diamond.json").path)
        #expect(diamond.node("checkout")?.dependents == ["build-linux", "build-mac", "package"])
        let hello = try FlowCompiler.compile(contentsOfFile: flowsDirectory.appendingPathComponent("hello.json").path)
        #expect(hello.nodes.map(\.id) == ["fetch-name", "greet", "publish"])
    }

    /// The schema, parsed.
    static func schema() throws -> JSONValue {
        try JSONValue.parse(bytes: Array(Data(contentsOf: flowsDirectory.appendingPathComponent("schema.json"))))
    }

    /// The property names the schema lists under `$defs/<definition>/properties`.
    static func schemaKeys(_ schema: JSONValue, _ definition: String) -> [String] {
        Array(schema["$defs"]?[definition]?["properties"]?.objectValue?.keys ?? [])
    }

    @Test("schema.json is JSON Schema 2020-12 and names exactly the keys the validator accepts")
    func schemaMatchesValidator() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"] == "https://json-schema.org/draft/2020-12/schema")
        #expect(Self.schemaKeys(schema, "nativeFlow") == FlowFileKeys.topLevel)
        #expect(Self.schemaKeys(schema, "node") == FlowFileKeys.node)
        #expect(Self.schemaKeys(schema, "optionFields") == FlowFileKeys.options)
        #expect(Self.schemaKeys(schema, "bullmqOptions") == FlowFileKeys.failureOptions)
        #expect(Self.schemaKeys(schema, "condition") == FlowFileKeys.condition)
        #expect(Self.schemaKeys(schema, "map") == FlowFileKeys.map)
        #expect(Self.schemaKeys(schema, "failureFlags") == FlowFileKeys.failureFlags)
        #expect(schema["$defs"]?["jobOptions"]?["allOf"]?[0]?["$ref"] == "#/$defs/failureFlags")
        #expect(schema["$defs"]?["bullmqOptions"]?["allOf"]?[0]?["$ref"] == "#/$defs/failureFlags")
        #expect(Self.schemaKeys(schema, "bullmqNodeFields") == FlowFileKeys.bullMQNode)
        #expect(Self.schemaKeys(schema, "bullmqFlow") == [FlowFileKeys.schema, "name"])
        #expect(schema["$defs"]?["bullmqNode"]?["unevaluatedProperties"] == false)
        #expect(schema["$defs"]?["bullmqFlow"]?["unevaluatedProperties"] == false)
        #expect(Self.schemaKeys(schema, "defaultOptions") == FlowFileKeys.nodeOnlyOptions)
        #expect(schema["$defs"]?["defaultOptions"]?["properties"]?["jobId"] == false)
        #expect(schema["$defs"]?["defaultOptions"]?["properties"]?["deduplication"] == false)
        let deduplication = schema["$defs"]?["optionFields"]?["properties"]?["deduplication"]?["properties"]
        #expect(deduplication?.objectValue.map { Array($0.keys) } == FlowFileKeys.deduplication)
        let backoff = schema["$defs"]?["optionFields"]?["properties"]?["backoff"]?["anyOf"]?[1]
        #expect(backoff?["properties"]?.objectValue.map { Array($0.keys) } == FlowFileKeys.backoff)
        let retention = schema["$defs"]?["retention"]?["anyOf"]?[2]
        #expect(retention?["properties"]?.objectValue.map { Array($0.keys) } == FlowFileKeys.retention)
        let onFailure = schema["$defs"]?["node"]?["properties"]?["onFailure"]?["enum"]
        #expect(onFailure == .array(FailurePolicy.fileValues.map { .string($0.rawValue) }))
        #expect(schema["$defs"]?["optionFields"]?["properties"]?["priority"]?["maximum"]?.intValue
            == Int64(JobOptions.maximumPriority))
    }
}
