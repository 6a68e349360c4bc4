import Foundation
import Tributary

/// Why a ``PythonPeer`` call did not produce a result.
enum PythonPeerError: Error, CustomStringConvertible {
    /// The venv or its pinned bullmq is missing; the message says how to fix it (`bash scripts/setup.sh`).
    case unavailable(String)
    /// peer.py exited unsuccessfully: nonzero `status` (3 = the peer's own timeout), or killed after the
    /// harness timeout (`timedOut`). `stderr` is the tail of what it logged.
    case failed(command: String, status: Int32, timedOut: Bool, stderr: String)
    /// peer.py succeeded but its stdout was not the JSON document the caller expected.
    case invalidOutput(command: String, stdout: String, reason: String)

    /// Whether the peer gave up waiting (exit status 3) or the harness killed it after its timeout.
    var isTimeout: Bool {
        if case .failed(_, let status, let timedOut, _) = self { return timedOut || status == PythonPeer.timeoutStatus }
        return false
    }

    /// A human-readable explanation, with peer.py's stderr tail when it failed.
    var description: String {
        switch self {
        case .unavailable(let message):
            return "Python peer unavailable: \(message)"
        case .failed(let command, let status, let timedOut, let stderr):
            let outcome = timedOut ? "was killed after the harness timeout" : "exited with status \(status)"
            return "python peer `\(command)` \(outcome); stderr tail:\n\(stderr)"
        case .invalidOutput(let command, let stdout, let reason):
            return "python peer `\(command)` printed unexpected output (\(reason)): \(stdout.debugDescription)"
        }
    }
}

/// One job for ``PythonPeer/addJobs(_:redisURL:queue:prefix:bulk:)``: what Python's `Queue.add(name, data, opts)` takes.
struct PeerJob: Sendable {
    /// The job name.
    var name: String
    /// The job data (any JSON value).
    var data: JSONValue
    /// Python bullmq job options, passed through as-is (e.g. `["delay": 500, "attempts": 3]`).
    var opts: JSONObject

    /// Creates a job description; `data` defaults to `{}` and `opts` to no options.
    init(_ name: String, data: JSONValue = .object([:]), opts: JSONObject = [:]) {
        self.name = name
        self.data = data
        self.opts = opts
    }

    /// The `{"name", "data", "opts"}` object peer.py reads.
    var json: JSONValue {
        .object(["name": .string(name), "data": data, "opts": .object(opts)])
    }
}

/// What a Python worker did, as reported by `peer.py work`.
struct PeerWorkResult: Sendable, Decodable {
    /// A job that completed: the processor returned `{"by": "python", "name", "data", "attempt"}`.
    struct Completed: Sendable, Decodable, Equatable {
        /// The job id.
        var id: String
        /// The job name.
        var name: String
        /// The processor's return value.
        var returnvalue: JSONValue
    }

    /// A job that failed for the last time (no retry left).
    struct Failed: Sendable, Decodable, Equatable {
        /// The job id.
        var id: String
        /// The job name.
        var name: String
        /// The error message (`python failure <name>` for `--fail-names`).
        var failedReason: String
        /// Attempts made, including the last one.
        var attemptsMade: Int
    }

    /// Completed jobs, in completion order.
    var completed: [Completed]
    /// Finally failed jobs, in failure order.
    var failed: [Failed]
}

/// The outcome of one job reported by `peer.py wait-finished`.
struct PeerFinishedJob: Sendable, Decodable, Equatable {
    /// `"completed"` or `"failed"`.
    var state: String
    /// The job's return value (`null` when failed).
    var returnvalue: JSONValue
    /// The job's failure message, if it ever failed (Python keeps it after a successful retry).
    var failedReason: String?
}

/// A node of the ids tree printed by `peer.py flow`.
struct PeerFlowNode: Sendable, Decodable, Equatable {
    /// The job id (`uuid4().hex` unless the node set `opts.jobId`).
    var id: String
    /// The job name.
    var name: String
    /// The queue name (without prefix).
    var queue: String
    /// The child nodes, in the order given.
    var children: [PeerFlowNode]
}

/// Drives Python `bullmq` (the version pinned in ``bullmqVersion``) through `Tests/TributaryTests/Python/peer.py`,
/// so interop tests can make Python add jobs, run workers and report what it sees.
///
/// Every call starts one short-lived `python` process on a dedicated thread (never on the cooperative pool), waits
/// for it and parses the single JSON document it prints. Obtain an instance with ``locate()``.
struct PythonPeer: Sendable {
    /// The Python bullmq version the peer must run (PyPI `bullmq==3.4.4`).
    static let bullmqVersion = "3.4.4"
    /// The exit status peer.py uses when it gives up waiting.
    static let timeoutStatus: Int32 = 3
    /// Above this size a JSON argument goes through a temporary file (`@path`) instead of argv.
    static let inlineArgumentLimit = 32 * 1024

    /// The repository's root, derived from this file's location (`Tests/TributaryTests/Support/`).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The result of the one-time environment check shared by every ``locate()`` call.
    private static let located: Result<PythonPeer, PythonPeerError> = Result { () throws(PythonPeerError) in try probe() }

    /// The venv's interpreter, `<repo>/.venv/bin/python`.
    let python: String
    /// The peer script, `<repo>/Tests/TributaryTests/Python/peer.py`.
    let script: String

    /// Finds `<repo>/.venv/bin/python` and checks that it imports bullmq ``bullmqVersion``.
    /// The check runs once per test process; later calls return the cached outcome.
    ///
    /// - Throws: ``PythonPeerError/unavailable(_:)`` telling to run `bash scripts/setup.sh`.
    static func locate() throws(PythonPeerError) -> PythonPeer {
        try located.get()
    }

    /// Performs the checks behind ``locate()`` (blocks for the ~0.1 s a Python start takes).
    private static func probe() throws(PythonPeerError) -> PythonPeer {
        let python = repositoryRoot + "/.venv/bin/python"
        let script = repositoryRoot + "/Tests/TributaryTests/Python/peer.py"
        let fix = "run `bash scripts/setup.sh` to create \(repositoryRoot)/.venv with bullmq==\(bullmqVersion)"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw .unavailable("\(python) not found; \(fix)")
        }
        guard FileManager.default.fileExists(atPath: script) else { throw .unavailable("\(script) is missing") }
        let check = "import bullmq; print(bullmq.__version__)"
        let result: TestProcessResult
        do {
            result = try TestProcess.run(python, ["-I", "-c", check], timeout: .seconds(30))
        } catch {
            throw .unavailable("could not run \(python): \(error); \(fix)")
        }
        let version = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded else {
            throw .unavailable("`import bullmq` failed (\(tail(of: result.stderr))); \(fix)")
        }
        guard version == bullmqVersion else {
            throw .unavailable("the venv has bullmq \(version), not \(bullmqVersion); \(fix)")
        }
        return PythonPeer(python: python, script: script)
    }

    /// Runs `peer.py <subcommand> --redis URL --queue NAME --prefix PREFIX <arguments>` and returns the JSON
    /// document it printed. The process runs on its own thread, so the cooperative pool is not blocked; it is
    /// killed after `timeout`.
    ///
    /// - Throws: ``PythonPeerError/failed(command:status:timedOut:stderr:)`` with the stderr tail when the peer
    ///   fails, ``PythonPeerError/invalidOutput(command:stdout:reason:)`` when stdout is not JSON.
    func run(_ subcommand: String, redisURL: String, queue: String, prefix: String = "bull",
             _ arguments: [String] = [], timeout: Duration = .seconds(60)) async throws -> JSONValue {
        let argv = ["-I", script, subcommand, "--redis", redisURL, "--queue", queue, "--prefix", prefix] + arguments
        let command = "peer.py " + ([subcommand, "--queue", queue] + arguments).joined(separator: " ")
        let result = try await TestProcess.runDetached(python, argv, timeout: timeout)
        guard result.succeeded else {
            throw PythonPeerError.failed(command: command, status: result.status, timedOut: result.timedOut,
                                         stderr: Self.tail(of: result.stderr))
        }
        do {
            return try JSONValue.parse(result.stdout)
        } catch {
            throw PythonPeerError.invalidOutput(command: command, stdout: result.stdout, reason: error.description)
        }
    }

    /// Adds `jobs` with Python's `Queue.add` one by one (or in one `Queue.addBulk` when `bulk`) and returns their ids.
    func addJobs(_ jobs: [PeerJob], redisURL: String, queue: String, prefix: String = "bull",
                 bulk: Bool = false) async throws -> [String] {
        let subcommand = bulk ? "add-bulk" : "add"
        let output = try await withJSONArgument(.array(jobs.map(\.json))) { jobsArgument in
            try await run(subcommand, redisURL: redisURL, queue: queue, prefix: prefix, ["--jobs", jobsArgument])
        }
        return try decode([IdentifiedJob].self, from: output, command: subcommand).map(\.id)
    }

    /// Runs a Python worker until `count` jobs reached a final outcome (completed, or failed with no retry left).
    /// Jobs named in `failNames` throw `Exception("python failure <name>")` on their first `failTimes` attempts
    /// (always when `nil`). With `mapItems`, jobs are items of a Tributary map node: the processor reads `mapIndex`
    /// and `mapItem` from the job hash and returns `{"by": "python", "index", "item"}`. Jobs named in `holdNames`
    /// wait until the key `releaseKey` exists. With `probe`, each handler records in Redis how many handlers run
    /// at once (`probe:now`, peak in `probe:peak`) and when it started (`probe:starts`, Redis time in ms), then
    /// works for that long. With `metricsPoints`, the worker has BullMQ's `metrics: {maxDataPoints}`. With `queueTotal`, the worker stops when the queue holds that many completed or failed
    /// jobs, whoever ran them (for several workers sharing a queue), instead of after `count` of its own. The peer
    /// gives up after `timeout` (``PythonPeerError/isTimeout``).
    func work(redisURL: String, queue: String, prefix: String = "bull", count: Int, concurrency: Int = 1,
              failNames: [String] = [], failTimes: Int? = nil, mapItems: Bool = false,
              holdNames: [String] = [], releaseKey: String = "peer:release", probe: Duration? = nil,
              queueTotal: Int? = nil, metricsPoints: Int? = nil,
              timeout: Duration = .seconds(30)) async throws -> PeerWorkResult {
        var arguments = ["--count", String(count), "--concurrency", String(concurrency),
                         "--timeout", Self.seconds(timeout)]
        if mapItems { arguments.append("--map-items") }
        if !holdNames.isEmpty { arguments += ["--hold-names", holdNames.joined(separator: ","), "--release-key", releaseKey] }
        if let probe { arguments += ["--probe", Self.seconds(probe)] }
        if let queueTotal { arguments += ["--queue-total", String(queueTotal)] }
        if let metricsPoints { arguments += ["--metrics-points", String(metricsPoints)] }
        if !failNames.isEmpty { arguments += ["--fail-names", failNames.joined(separator: ",")] }
        if let failTimes { arguments += ["--fail-times", String(failTimes)] }
        let output = try await run("work", redisURL: redisURL, queue: queue, prefix: prefix, arguments,
                                   timeout: timeout + .seconds(30))
        return try decode(PeerWorkResult.self, from: output, command: "work")
    }

    /// Python's `Queue.getJobCounts` for waiting, active, completed, failed, delayed, prioritized,
    /// waiting-children and paused.
    func counts(redisURL: String, queue: String, prefix: String = "bull") async throws -> [String: Int] {
        let output = try await run("counts", redisURL: redisURL, queue: queue, prefix: prefix)
        return try decode([String: Int].self, from: output, command: "counts")
    }

    /// Python's `Job.fromId` as JSON (name, data, opts, returnvalue, failedReason, attemptsMade, timestamp,
    /// processedOn, finishedOn, delay, priority, progress, parentKey, parent, state, …), or `nil` if there is no job.
    func job(id: String, redisURL: String, queue: String, prefix: String = "bull") async throws -> JSONValue? {
        let output = try await run("job", redisURL: redisURL, queue: queue, prefix: prefix, ["--id", id])
        // Not `output.isNull ? nil : output`: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
        if output.isNull { return Optional<JSONValue>.none }
        return output
    }

    /// Polls until every job in `ids` is completed or failed and returns each one's outcome, keyed by id.
    func waitFinished(ids: [String], redisURL: String, queue: String, prefix: String = "bull",
                      timeout: Duration = .seconds(30)) async throws -> [String: PeerFinishedJob] {
        let output = try await run("wait-finished", redisURL: redisURL, queue: queue, prefix: prefix,
                                   ["--ids", ids.joined(separator: ","), "--timeout", Self.seconds(timeout)],
                                   timeout: timeout + .seconds(30))
        return try decode([String: PeerFinishedJob].self, from: output, command: "wait-finished")
    }

    /// Adds a flow with Python's `FlowProducer.add`. `tree` is `{name, queueName?, data, opts, children}`, nested;
    /// nodes without `queueName` go to `queue`. Returns the ids tree.
    func flow(_ tree: JSONValue, redisURL: String, queue: String, prefix: String = "bull") async throws -> PeerFlowNode {
        let output = try await withJSONArgument(tree) { treeArgument in
            try await run("flow", redisURL: redisURL, queue: queue, prefix: prefix, ["--tree", treeArgument])
        }
        return try decode(PeerFlowNode.self, from: output, command: "flow")
    }

    // MARK: Plumbing

    /// `{"id": …}`, one element of the `add`/`add-bulk` output.
    private struct IdentifiedJob: Decodable {
        /// The job id Python got back from the add script.
        var id: String
    }

    /// Decodes peer output, reporting a mismatch as ``PythonPeerError/invalidOutput(command:stdout:reason:)``.
    func decode<T: Decodable>(_ type: T.Type, from output: JSONValue, command: String) throws -> T {
        do {
            return try output.decode(as: type)
        } catch {
            throw PythonPeerError.invalidOutput(command: command, stdout: output.serialized(), reason: "\(error)")
        }
    }

    /// Calls `body` with `value` as a command-line argument: inline, or `@path` of a temporary file when large.
    private func withJSONArgument<T>(_ value: JSONValue, _ body: (String) async throws -> T) async throws -> T {
        let text = value.serialized()
        guard text.utf8.count > Self.inlineArgumentLimit else { return try await body(text) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body("@" + path)
    }

    /// `duration` in seconds as a decimal string, for peer.py's `--timeout`.
    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The last 40 lines (at most 4000 characters) of `text`, for error messages.
    private static func tail(of text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
        return String(lines.suffix(4000))
    }
}

/// Runs `body` with a private Redis server, a Tributary client connected to it (over the unix socket, or TCP when
/// `overTCP`) and the Python peer; the client is closed afterwards, whatever `body` does. The one preamble of the
/// interop suites.
func withPythonPeer(overTCP: Bool = false,
                    _ body: (TestRedisServer, RedisClient, PythonPeer) async throws -> Void) async throws {
    let peer = try PythonPeer.locate()
    try await withRedisServer { server in
        var configuration = try RedisConfiguration(url: overTCP ? server.tcpURL : server.unixURL)
        configuration.disconnectedBehavior = .waitForReconnect
        let client = try await RedisClient.connect(configuration)
        do { try await body(server, client, peer) } catch {
            await client.close()
            throw error
        }
        await client.close()
    }
}
