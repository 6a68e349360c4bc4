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
            nodes whose data is not an object keep it).

            --wait shows the run's progress until it ends: a live tree on a terminal, one line per change \
            otherwise, then the final tree. --work also runs workers for the flow's queues in this process \
            (it implies --wait); with --allow-commands they run the nodes' commands ("run" in the file). Without \
            --work, start workers elsewhere (`tributary worker --queue Q --allow-commands`).

            Exit codes: 0 submitted (with --wait: the run completed), 1 the run failed, was cancelled or \
            outlived --timeout, 2 invalid file or options, 3 Redis unreachable.

            Examples:
              tributary run flows/hello.json --work --allow-commands
              tributary run flows/diamond.json --run-id build-42
              tributary run flows/hello.json --data '{"who": "Ada"}' --wait --timeout 5m
              RUN=$(tributary run flows/fan-in.json) && tributary flow show "$RUN"
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The flow file.")
    var file: String

    @Option(help: "The run id (default: a random one). Submitting an existing id changes nothing.")
    var runId: String?

    @Option(help: ArgumentHelp("A JSON object set in every node's data.", valueName: "json"))
    var data: String?

    @Flag(help: "Show progress until the run ends; exit 1 unless it completed.")
    var wait = false

    @Flag(help: "Run workers for the flow's queues in this process (implies --wait).")
    var work = false

    @Flag(help: "With --work: run command steps. Anyone who can write to this Redis can then run programs here.")
    var allowCommands = false

    @Option(help: "With --work: jobs run at once per queue.")
    var concurrency = 4

    @Option(help: "With --work: the longest a command step may run when its node has no timeout.")
    var commandTimeout = DurationArgument(.seconds(600), text: "10m")

    @Option(help: "With --wait: give up waiting after this long (exit 1).")
    var timeout: DurationArgument?

    @OptionGroup var output: JSONOutputOption

    func validate() throws {
        if allowCommands && !work { throw ValidationError("--allow-commands needs --work (or start `tributary worker --allow-commands`)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if let runId, runId.isEmpty || runId.contains(":") {
            throw ValidationError("--run-id '\(runId)' must be non-empty and must not contain ':'")
        }
    }

    func run() async throws {
        let plan = try compile()
        if let wanted = plan.prefix, let given = connection.explicitPrefix, wanted != given {
            throw ValidationError("\(file) asks for prefix '\(wanted)' but --prefix is '\(given)'")
        }
        let prefix = plan.prefix ?? connection.prefix
        let configuration = try await connection.configuration(.failFast)
        let client = try await connect(configuration)
        do {
            try await submitAndFollow(plan, prefix: prefix, configuration: configuration, client: client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    private func submitAndFollow(_ plan: FlowPlan, prefix: String, configuration: RedisConfiguration,
                                 client: RedisClient) async throws {
        let producer = FlowProducer(client: client, prefix: prefix)
        let receipt = try await producer.submit(plan, runId: runId)
        if !receipt.created { Output.warn("run \(receipt.runId) exists already: nothing was submitted") }
        guard wait || work else {
            if output.json {
                print(JSONValue.object(["run": .string(receipt.runId), "created": .bool(receipt.created)]).serialized())
            } else {
                print(receipt.runId)
            }
            return
        }
        if !output.json { print(receipt.runId) }
        fflush(nil)

        var workers: [Worker] = []
        var workerClient: RedisClient?
        if work {
            var workerConfiguration = configuration
            workerConfiguration.disconnectedBehavior = .waitForReconnect
            let shared = try await connect(workerConfiguration)
            workerClient = shared
            workers = try startWorkers(queues: Array(Set(plan.nodes.map(\.queue))).sorted(), prefix: prefix, client: shared)
        }
        let runners = workers.map { worker in Task { try await worker.run() } }
        let final = await RunProgress(producer: producer, runId: receipt.runId, live: !output.json, timeout: timeout?.duration)
            .follow()
        for worker in workers { await worker.close(timeout: .seconds(10)) }
        for runner in runners { _ = try? await runner.value }
        await workerClient?.close()

        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard let final else { throw CLIError("flow run \(receipt.runId) disappeared while waiting", status: .notFound) }
        let view = FlowView(run: final.run)
        if output.json {
            print(FlowRendering.json(view, now: now).prettyPrinted())
        } else {
            print(FlowRendering.tree(view, now: now))
            let took = Output.duration(milliseconds: max(0, now - final.run.createdAt))
            print(final.timedOut ? "run \(receipt.runId) is still \(final.run.status.rawValue) after \(took)"
                                 : "run \(receipt.runId) \(final.run.status.rawValue) in \(took)")
        }
        if final.timedOut || final.run.status != .completed { throw ExitCode(ExitStatus.failed.rawValue) }
    }

    private func connect(_ configuration: RedisConfiguration) async throws -> RedisClient {
        do {
            return try await RedisClient.connect(configuration)
        } catch let error as RedisClientError {
            throw CLIError("cannot reach Redis at \(configuration.endpoint): \(error.description)", status: .redisUnavailable)
        }
    }

    /// Compiles the file (problems printed with positions, exit 2), then applies --data.
    private func compile() throws -> FlowPlan {
        do {
            let plan = try FlowCompiler.compile(contentsOfFile: file)
            guard let data else { return plan }
            let extra: JSONValue
            do {
                extra = try JSONValue.parse(data)
            } catch {
                throw ValidationError("--data is not valid JSON: \(error)")
            }
            guard let members = extra.objectValue else { throw ValidationError("--data must be a JSON object") }
            let document = try JSONValue.parse(bytes: Array(FileManager.default.contents(atPath: file) ?? Data()), source: file)
            return try FlowCompiler.compile(Self.setting(members, in: document), source: file)
        } catch let error as FlowFileError {
            for (problem, position) in ValidateCommand.locate(error) { Output.warn(ValidateCommand.line(problem, position)) }
            throw ExitCode(ExitStatus.invalidInput.rawValue)
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

    private func startWorkers(queues: [String], prefix: String, client: RedisClient) throws -> [Worker] {
        var logger = Logger(label: "tributary.run")
        logger.logLevel = .error  // job failures show in the tree
        return try queues.map { queue in
            let router = JobRouter()
            if allowCommands { router.runCommandSteps(CommandStep(options: .init(timeout: commandTimeout.duration))) }
            return try Worker(queue: queue, client: client, prefix: prefix, options: .init(concurrency: concurrency),
                              logger: logger, router: router)
        }
    }
}
