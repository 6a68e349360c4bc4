/// Runs command steps: jobs whose hash has a `command` field (a JSON array of strings, `"run"` in a flow file),
/// executed as a child process.
///
/// - stdin receives `{"data": <job data>, "inputs": {nodeId: result, ...}}` as JSON (``Job/inputs``; plus
///   `"inputFailures": {nodeId: reason}` when needed nodes failed under the `ignore` or `continue` policy);
/// - stdout becomes the job's result: the JSON value it holds, or else its text as a JSON string (one trailing
///   newline removed);
/// - a non-zero exit fails the attempt (the job's attempts and backoff apply); the tail of stderr goes to the job's
///   log and into the failure reason;
/// - past its timeout (the job's `timeout` option, else ``Options/timeout``) the command's process group gets
///   SIGTERM, then SIGKILL after ``Options/killGrace``, and the attempt fails.
///
/// The child also finds `TRIBUTARY_JOB_ID`, `TRIBUTARY_JOB_NAME`, `TRIBUTARY_QUEUE` and `TRIBUTARY_ATTEMPT` (1 for the
/// first attempt) in its environment. It inherits the worker's environment except its credentials
/// (``credentialVariables``: `REDIS_URL`, `TRIBUTARY_KEYS`…), unless ``Options/passedEnvironment`` names them.
///
/// Command steps are off unless a program turns them on (``JobRouter/runCommandSteps(_:)``, or the CLI's
/// `worker --allow-commands`): whoever can write to the Redis server can add a job with any command, so enabling
/// them lets every such writer run programs as the worker's user.
///
/// ```swift
/// let router = JobRouter()
/// router.runCommandSteps(CommandStep(options: .init(timeout: .seconds(60))))
/// let worker = try Worker(queue: "pipeline", client: client, router: router)
/// ```
public struct CommandStep: Sendable {
    /// How commands run.
    public struct Options: Sendable {
        /// The longest a command may run when its job has no `timeout` option.
        public var timeout: Duration
        /// After a timeout or cancellation, how long the command gets between SIGTERM and SIGKILL.
        public var killGrace: Duration
        /// The most stdout kept; a command that writes more is killed and its attempt fails.
        public var maxOutputBytes: Int
        /// How many of stderr's last lines go to the job log and the failure reason.
        public var stderrTailLines: Int
        /// How many of stderr's last bytes go to the job log and the failure reason.
        public var stderrTailBytes: Int
        /// The commands' working directory; the worker's when `nil`.
        public var workingDirectory: String?
        /// Variables added to the environment the commands inherit from the worker.
        public var environment: [String: String]
        /// Variables of the worker's environment that commands do not inherit (unless named in
        /// ``passedEnvironment``); ``CommandStep/credentialVariables`` by default.
        public var withheldEnvironment: Set<String>
        /// Withheld variables that commands inherit all the same (the CLI's `--pass-env NAME`).
        public var passedEnvironment: Set<String>

        /// Creates options; the defaults are 10 minutes, 5 s, 16 MiB, 20 lines and 4 KiB, and the credentials of
        /// ``CommandStep/credentialVariables`` withheld.
        public init(timeout: Duration = .seconds(600), killGrace: Duration = .seconds(5), maxOutputBytes: Int = DataLimits.defaultValueBytes,
                    stderrTailLines: Int = 20, stderrTailBytes: Int = 4096, workingDirectory: String? = nil,
                    environment: [String: String] = [:], withheldEnvironment: Set<String> = CommandStep.credentialVariables,
                    passedEnvironment: Set<String> = []) {
            self.timeout = timeout
            self.killGrace = killGrace
            self.maxOutputBytes = maxOutputBytes
            self.stderrTailLines = stderrTailLines
            self.stderrTailBytes = stderrTailBytes
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.withheldEnvironment = withheldEnvironment
            self.passedEnvironment = passedEnvironment
        }
    }

    /// The worker's credentials, which commands do not inherit unless asked: the Redis URL (`REDIS_URL`, which may
    /// hold a password; `REDISCLI_AUTH`) and the job-field keys (`TRIBUTARY_KEYS`, `TRIBUTARY_KEYS_FILE`). A command
    /// that needs Redis should be given its own, narrower credentials.
    public static let credentialVariables: Set<String> = ["REDIS_URL", "REDISCLI_AUTH", "TRIBUTARY_KEYS", "TRIBUTARY_KEYS_FILE"]

    /// The environment a command starts with: `inherited` without the withheld variables (unless passed), plus
    /// ``Options/environment``.
    public static func environment(inheriting inherited: [String: String], options: Options) -> [String: String] {
        var environment = inherited
        for name in options.withheldEnvironment where !options.passedEnvironment.contains(name) {
            environment.removeValue(forKey: name)
        }
        return environment.merging(options.environment) { $1 }
    }

    /// How commands run.
    public let options: Options

    /// Creates a runner.
    public init(options: Options = .init()) {
        self.options = options
    }

    /// The command of a command-step job (``Job/command``), or `nil` when the job has no `command` field.
    ///
    /// - Throws: ``UnrecoverableError`` when the field is there but is not a non-empty JSON array of strings.
    public static func command(of job: Job) throws -> [String]? {
        guard let text = job.fields["command"] else { return nil }
        guard let command = job.command, !command[0].isEmpty else {
            throw UnrecoverableError("job \(job.id) has an invalid command field \(text): expected a non-empty JSON array of strings")
        }
        return command
    }

    /// What the command reads on stdin: `{"data": <job data>, "inputs": {nodeId: result, ...}}`, plus
    /// `"inputFailures": {nodeId: reason, ...}` when needed nodes failed under the `ignore` or `continue` policy.
    public static func input(for job: Job, inputs: [String: JSONValue], inputFailures: [String: String] = [:]) -> JSONValue {
        var inputObject = JSONObject()
        for key in inputs.keys.sorted() { inputObject[key] = inputs[key] }
        var object: JSONObject = ["data": job.data, "inputs": .object(inputObject)]
        if !inputFailures.isEmpty {
            var failures = JSONObject()
            for key in inputFailures.keys.sorted() {
                // A needed map node with tolerated failures: its failed items, each with index and reason.
                failures[key] = job.itemFailures[key].map { .array($0.map(\.json)) } ?? .string(inputFailures[key]!)
            }
            object["inputFailures"] = .object(failures)
        }
        if !job.skippedInputs.isEmpty { object["skippedInputs"] = .array(job.skippedInputs.map { .string($0) }) }
        if let item = job.mapItem, let index = job.mapIndex {
            object["item"] = item
            object["index"] = .int(Int64(index))
        }
        return .object(object)
    }

    /// The result of a command's stdout: its JSON value when the text (without one trailing newline) parses as
    /// JSON, otherwise that text as a JSON string.
    public static func result(fromStdout bytes: [UInt8]) -> JSONValue {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r\n") || text.hasSuffix("\n") { text.removeLast() }  // "\r\n" is one Character
        if let value = try? JSONValue.parse(text) { return value }
        return .string(text)
    }

    /// Runs the job's command and returns its result. Call it from a worker's handler (the job's log is written
    /// through the worker); outside one, nothing is logged.
    ///
    /// - Parameters:
    ///   - job: a command step's job (one with a `command` field).
    ///   - inputs: the results of the nodes this one needs, by node id; ``Job/inputs`` (which the worker fills for
    ///     flow-run nodes) when `nil`.
    /// - Throws: ``CommandStepError`` when the command cannot start, exits non-zero, times out or writes too much;
    ///   ``UnrecoverableError`` when the job is not a command step or its command field is invalid;
    ///   `CancellationError` when the calling task is cancelled (the command is killed first).
    public func run(_ job: Job, inputs: [String: JSONValue]? = nil) async throws -> JSONValue {
        guard let command = try Self.command(of: job) else {
            throw UnrecoverableError("job \(job.id) is not a command step (it has no command field)")
        }
        guard let executable = ChildProcess.executablePath(command[0]) else {
            throw CommandStepError(.notFound, command: command, "command '\(command[0])' was not found in PATH")
        }
        var environment = Self.environment(inheriting: ChildProcess.currentEnvironment, options: options)
        environment["TRIBUTARY_JOB_ID"] = job.id
        environment["TRIBUTARY_JOB_NAME"] = job.name
        environment["TRIBUTARY_QUEUE"] = job.queue.queueName
        environment["TRIBUTARY_ATTEMPT"] = String(job.attemptsMade + 1)
        let timeout = job.options.timeout ?? options.timeout
        let stdin = Self.input(for: job, inputs: inputs ?? job.inputs, inputFailures: job.inputFailures).serializedBytes()

        let process = try CommandProcess.start(executable: executable, arguments: Array(command.dropFirst()),
                                               input: stdin, workingDirectory: options.workingDirectory,
                                               environment: environment, maxOutputBytes: options.maxOutputBytes)
        let outcome = await process.finish(deadline: ContinuousClock.now + timeout, killGrace: options.killGrace)
        let tail = Self.tail(of: process.stderr, lines: options.stderrTailLines, bytes: options.stderrTailBytes)
        let shown = Self.shown(command)
        let failure: CommandStepError
        switch outcome {
        case .exited(0):
            return Self.result(fromStdout: process.stdout)
        case .exited(let status):
            let how = status > 128 ? "was killed by signal \(status - 128)" : "exited with status \(status)"
            failure = CommandStepError(.exited, command: command, "command \(shown) \(how)", exitStatus: status, stderrTail: tail)
        case .timedOut:
            failure = CommandStepError(.timedOut, command: command, "command \(shown) timed out after \(timeout) and was killed",
                                       stderrTail: tail)
        case .outputTooLarge:
            failure = CommandStepError(.outputTooLarge, command: command,
                                       "command \(shown) wrote more than \(options.maxOutputBytes) bytes to stdout and was killed",
                                       stderrTail: tail)
        case .cancelled:
            await log(job, header: "command \(shown) was killed: the attempt was cancelled (timeout or worker closing)", tail: tail)
            throw CancellationError()
        }
        await log(job, header: "attempt \(job.attemptsMade + 1): \(failure.message)", tail: tail)
        throw failure
    }

    /// Writes a header line and the stderr tail to the job's log, when running inside a worker.
    private func log(_ job: Job, header: String, tail: [String]) async {
        guard (try? await job.log(header + (tail.isEmpty ? "; stderr was empty" : "; stderr (last \(tail.count) lines):"))) != nil else {
            return
        }
        for line in tail { _ = try? await job.log(line) }
    }

    /// The last `lines` lines within the last `bytes` bytes of `output`.
    static func tail(of output: [UInt8], lines: Int, bytes: Int) -> [String] {
        guard !output.isEmpty, lines > 0, bytes > 0 else { return [] }
        var text = String(decoding: output.suffix(bytes), as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).map(String.init)
        if output.count > bytes, result.count > 1, let first = result.first, !first.isEmpty {
            result[0] = "…" + first  // cut mid-line
        }
        return result
    }

    /// The command for messages, as a shell would read it (words quoted where needed), cut to 60 characters (the
    /// job's `command` field has it whole).
    static func shown(_ command: [String]) -> String {
        let text = shellQuoted(command)
        return "`" + (text.count > 60 ? String(text.prefix(59)) + "…" : text) + "`"
    }

    /// The command's words joined as a POSIX shell would read them: plain words as they are, others in single
    /// quotes (a quote inside written `'\''`).
    package static func shellQuoted(_ command: [String]) -> String {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,@%+")
        return command.map { word in
            if !word.isEmpty && word.allSatisfy(plain.contains) { return word }
            var quoted = "'"
            for character in word {
                if character == "'" { quoted += "'\\''" } else { quoted.append(character) }
            }
            return quoted + "'"
        }.joined(separator: " ")
    }

}

/// Why a command step's attempt failed.
public struct CommandStepError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The program was not found in `PATH`, or could not be started.
        public static let notFound = Code("notFound")
        /// The command exited with a non-zero status (or was killed by a signal).
        public static let exited = Code("exited")
        /// The command ran past its timeout and was killed.
        public static let timedOut = Code("timedOut")
        /// The command wrote more than ``CommandStep/Options/maxOutputBytes`` to stdout and was killed.
        public static let outputTooLarge = Code("outputTooLarge")
    }

    /// What went wrong.
    public let code: Code
    /// The command as stored in the job.
    public let command: [String]
    /// A one-line message naming the command and what happened.
    public let message: String
    /// The exit status (`128 + signal` when a signal ended it), for `exited`.
    public let exitStatus: Int32?
    /// The last lines of the command's stderr.
    public let stderrTail: [String]

    /// Creates an error.
    public init(_ code: Code, command: [String], _ message: String, exitStatus: Int32? = nil, stderrTail: [String] = []) {
        self.code = code
        self.command = command
        self.message = message
        self.exitStatus = exitStatus
        self.stderrTail = stderrTail
    }

    /// The message, then the stderr tail (this is the job's failure reason).
    public var description: String {
        stderrTail.isEmpty ? message : message + "; stderr:\n" + stderrTail.joined(separator: "\n")
    }
}
