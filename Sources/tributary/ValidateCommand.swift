import ArgumentParser
import Foundation
import Tributary

/// `tributary validate FILE...`: checks flow files without touching Redis.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check flow files; print every problem with file:line:column.",
        discussion: """
            Runs the same checks as `run` (syntax, keys, types, options, queues, dependencies, cycles) and reports \
            every problem of every file, one per line: file:line:column: [path: ]message. Nothing is enqueued and \
            Redis is not needed. docs/flow-file-format.md describes the format.

            Exit codes: 0 every file is valid, 2 some file has a problem (or cannot be read).

            Examples:
              tributary validate flows/hello.json
              tributary validate flows/*.json
              tributary validate pipeline.json --json
              tributary validate --cluster --prefix '{billing}' flows/*.json

            With --cluster, each flow is also checked for Redis Cluster: its queues and run records must share \
            one hash slot, which takes a hash tag in the prefix (the file's `prefix`, else --prefix). \
            docs/cluster.md explains how to choose prefixes.
            """
    )

    @Argument(help: "The flow files.")
    var files: [String]

    @OptionGroup var output: JSONOutputOption

    @Flag(help: "Also check that each flow can run on a Redis Cluster (one hash slot for all its keys).")
    var cluster = false

    @Option(help: "With --cluster: the key prefix of flows whose file names none.")
    var prefix = "bull"

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one flow file") }
    }

    func run() async throws {
        var reports: [JSONValue] = []
        var invalid = 0
        for file in files {
            do {
                let plan = try check(file)
                let queues = Array(Set(plan.nodes.map(\.queue))).sorted()
                if output.json {
                    reports.append(.object([
                        "file": .string(file), "valid": true, "flow": .string(plan.flow), "nodes": .int(Int64(plan.nodes.count)),
                        "queues": .array(queues.map { .string($0) }), "problems": [],
                    ]))
                } else {
                    print("\(file): ok (flow '\(plan.flow)', \(plan.nodes.count) nodes, queues: \(queues.joined(separator: ", ")))")
                }
            } catch {
                invalid += 1
                let located = Self.locate(error)
                if output.json {
                    reports.append(.object([
                        "file": .string(file), "valid": false,
                        "problems": .array(located.map { problem, position in
                            .object([
                                "code": .string(problem.code.description), "message": .string(problem.message),
                                "line": position.map { .int(Int64($0.line)) } ?? .null,
                                "column": position.map { .int(Int64($0.column)) } ?? .null,
                                "path": problem.path.map { .string($0) } ?? .null,
                                "node": problem.node.map { .string($0) } ?? .null,
                            ])
                        }),
                    ]))
                } else {
                    for (problem, position) in located {
                        Output.warn(Self.line(problem, position))
                    }
                }
            }
        }
        if output.json { print(JSONValue.array(reports).prettyPrinted()) }
        if invalid > 0 {
            if !output.json { Output.warn("\(invalid) of \(files.count) file(s) invalid") }
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        }
    }

    /// The compiled flow of `file`, checked for Redis Cluster too with `--cluster`.
    private func check(_ file: String) throws(FlowFileError) -> FlowPlan {
        let plan = try FlowCompiler.compile(contentsOfFile: file)
        if cluster, let error = plan.clusterProblem(source: file, prefix: prefix) { throw error }
        return plan
    }

    /// Each problem with its position: jansson's for syntax problems, the located path for the others.
    static func locate(_ error: FlowFileError) -> [(FlowFileProblem, (line: Int, column: Int)?)] {
        let text = FileManager.default.contents(atPath: error.source)
            .map { String(decoding: FlowCompiler.withoutByteOrderMark(Array($0)), as: UTF8.self) }
        let locator = text.map(JSONPositionLocator.init(text:))
        return error.problems.map { problem in
            if let line = problem.line, let column = problem.column { return (problem, (line, column)) }
            guard let path = problem.path, let locator else { return (problem, nil) }
            return (problem, locator.position(of: path))
        }
    }

    /// `file:line:column: path: message`.
    static func line(_ problem: FlowFileProblem, _ position: (line: Int, column: Int)?) -> String {
        let place = position.map { "\(problem.source):\($0.line):\($0.column)" } ?? problem.source
        if problem.line == nil, let path = problem.path, !path.isEmpty {
            return "\(place): \(path): \(problem.message)"
        }
        return "\(place): \(problem.message)"
    }
}
