import ArgumentParser
import Foundation
import Logging
import Tributary

/// `tributary run FILE`: submits a flow file as a run, optionally waiting for it and working on it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit a flow file as a run and print its id; optionally wait for it, or run it here.",
        discussion: """
            The file is checked first (as `validate` does); nothing is submitted when it has a problem (exit 2). \
            Every node becomes a job <run-id>.<node-id>. A run id given with --run-id makes the submission \
            idempotent: submitting the same id again changes nothing.

            --data takes a JSON object whose members are set in the data of every node (over the file's values; \
            nodes whose data is not an object keep it): inline, as @FILE (read from that file) or as - (read from \
            stdin), so large input does not have to fit on the command line.

            --wait shows the run's progress until it ends: on a terminal a summary redrawn in place (counts, a \
            bar, the failed and active nodes, the newest events), one plain line per change otherwise, then the \
            final tree. --work also runs workers for the flow's queues in this process \
            (it implies --wait); with --allow-commands they run the nodes' commands ("run" in the file). Without \
            --work, start workers elsewhere (`tributary worker --queue Q --allow-commands`).

            With --work, SIGINT (Ctrl-C) or SIGTERM stops it gracefully, as `tributary worker` stops: no new jobs \
            are taken, running jobs get --grace-period to finish, then they are interrupted (their commands are \
            killed and their jobs run again elsewhere); a second signal interrupts them at once. The run itself \
            goes on (`tributary flow cancel ID` cancels it).

            A flow whose nodes ask for encrypted fields ("encrypt", "encryptResult") needs keys: TRIBUTARY_KEYS \
            (kid1:BASE64,kid2:BASE64; the first encrypts) or TRIBUTARY_KEYS_FILE; without them nothing is \
            submitted (exit 2). Workers need the same keys to decrypt.

            Exit codes: 0 submitted (with --wait: the run completed), 1 the run failed, was cancelled or \
            outlived --timeout, 2 invalid file or options, 3 Redis unreachable, 5 stopped by SIGINT or SIGTERM \
            before the run ended.

            Examples:
              tributary run flows/hello.json --work --allow-commands
              tributary run flows/diamond.json --run-id build-42
              tributary run flows/hello.json --data '{"who": "Ada"}' --wait --timeout 5m
              tributary run flows/hello.json --data @input.json --work --allow-commands
              produce-input | tributary run flows/hello.json --data -
              RUN=$(tributary run flows/fan-in.json) && tributary flow show "$RUN"
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The flow file.")
    var file: String

    @Option(help: "The run id (default: a random one). Submitting an existing id changes nothing.")
    var runId: String?

    @Option(help: ArgumentHelp("A JSON object set in every node's data: inline, @FILE or - (stdin).",
                               valueName: "json|@file|-"))
    var data: String?

    @OptionGroup var following: RunFollowOptions

    @OptionGroup(title: "Limits (refused before anything is stored)") var limits: LimitOptions

    @OptionGroup var output: JSONOutputOption

    func validate() throws {
        if let runId, runId.isEmpty || runId.contains(":") {
            throw ValidationError("--run-id '\(runId)' must be non-empty and must not contain ':'")
        }
    }

    func run() async throws {
        let plan = try compile()
        let cipher = try FieldKeys.load()
        if cipher == nil, let node = FieldKeys.nodeAskingForEncryption(in: plan) {
            throw CLIError("\(file) asks for encrypted fields (node '\(node.id)': encrypt/encryptResult) but no keys are "
                + "configured: \(FieldKeys.howTo); nothing was submitted", status: .invalidInput)
        }
        if let wanted = plan.prefix, let given = connection.explicitPrefix, wanted != given {
            throw CLIError("\(file) asks for prefix '\(wanted)' but --prefix is '\(given)'", status: .invalidInput)
        }
        let prefix = plan.prefix ?? connection.prefix
        let configuration = try await connection.configuration(.failFast)
        let client = try await connect(configuration)
        if client.isCluster, let error = plan.clusterProblem(source: file, prefix: prefix) {
            await client.close()
            for (problem, position) in ValidateCommand.locate(error) { Output.warn(ValidateCommand.line(problem, position)) }
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        }
        do {
            try await submitAndFollow(plan, prefix: prefix, configuration: configuration, client: client, cipher: cipher)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    private func submitAndFollow(_ plan: FlowPlan, prefix: String, configuration: RedisConfiguration,
                                 client: RedisClient, cipher: FieldCipher?) async throws {
        let producer = FlowProducer(client: client, prefix: prefix, limits: limits.dataLimits, cipher: cipher)
        let receipt = try await producer.submit(plan, runId: runId)
        if !receipt.created { Output.warn("run \(receipt.runId) exists already: nothing was submitted") }
        guard following.follows else {
            if output.json {
                print(JSONValue.object(["run": .string(receipt.runId), "created": .bool(receipt.created)]).serialized())
            } else {
                print(receipt.runId)
            }
            return
        }
        if !output.json { print(receipt.runId) }
        fflush(nil)
        try await following.follow(runId: receipt.runId, queues: Array(Set(plan.nodes.map(\.queue))).sorted(),
                                   producer: producer, configuration: configuration, json: output.json)
    }

    private func connect(_ configuration: RedisConfiguration) async throws -> RedisClient {
        try await RunFollowOptions.connect(configuration)
    }

    /// Compiles the file (problems printed with positions, exit 2), then applies --data.
    private func compile() throws -> FlowPlan {
        do {
            let plan = try FlowCompiler.compile(contentsOfFile: file)
            guard let data else { return plan }
            let members = try Self.dataObject(data)
            let bytes = Array(FileManager.default.contents(atPath: file) ?? Data())
            let document = try JSONValue.parse(bytes: FlowCompiler.withoutByteOrderMark(bytes), source: file)
            return try FlowCompiler.compile(Self.setting(members, in: document), source: file)
        } catch let error as FlowFileError {
            for (problem, position) in ValidateCommand.locate(error) { Output.warn(ValidateCommand.line(problem, position)) }
            throw ExitCode(ExitStatus.invalidInput.rawValue)
        }
    }

    /// The object --data gives: inline JSON, `@FILE` (that file's contents) or `-` (stdin). Problems are
    /// ``CLIError``s naming what is wrong (exit 2).
    static func dataObject(_ argument: String, stdin: FileHandle = .standardInput) throws -> JSONObject {
        let bytes: [UInt8]
        let source: String
        if argument == "-" {
            bytes = Array(stdin.readDataToEndOfFile())
            source = "--data - (stdin)"
        } else if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard let contents = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
                throw CLIError("--data @\(path): \(reason)", status: .invalidInput)
            }
            bytes = Array(contents)
            source = "--data @\(path)"
        } else {
            bytes = Array(argument.utf8)
            source = "--data"
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: FlowCompiler.withoutByteOrderMark(bytes), source: source)
        } catch {
            throw CLIError("\(source) is not valid JSON: \(error)", status: .invalidInput)
        }
        guard let members = value.objectValue else {
            throw CLIError("\(source) must be a JSON object ({\"key\": value, …}), got \(Self.kind(of: value))",
                           status: .invalidInput)
        }
        return members
    }

    /// "an array", "a string", … for messages.
    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// `document` with `members` set in the data of every node (both flow-file shapes).
    static func setting(_ members: JSONObject, in document: JSONValue) -> JSONValue {
        func merged(_ node: JSONValue) -> JSONValue {
            guard var object = node.objectValue else { return node }
            switch object["data"] {
            case nil:
                object["data"] = .object(members)
            case .object(var data)?:
                for (key, value) in members { data[key] = value }
                object["data"] = .object(data)
            default:
                break
            }
            return .object(object)
        }
        guard var root = document.objectValue else { return document }
        if case .object(var nodes)? = root["nodes"] {
            for key in nodes.keys { nodes[key] = merged(nodes[key]!) }
            root["nodes"] = .object(nodes)
            return .object(root)
        }
        func tree(_ node: JSONValue) -> JSONValue {
            guard case .object(var object) = merged(node) else { return node }
            if case .array(let children)? = object["children"] { object["children"] = .array(children.map(tree)) }
            return .object(object)
        }
        return tree(document)
    }
}
