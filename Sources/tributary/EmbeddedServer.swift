import Foundation
import Logging
import Tributary

/// The embedded Redis: a private redis-server in `./.tributary` that the CLI starts when no `--redis` URL is given.
///
/// It listens only on a unix socket (`unixsocketperm 700`, in a directory of mode 0700), keeps its data there
/// (AOF with `appendfsync everysec`; `maxmemory-policy noeviction`) and runs daemonized, so it outlives the
/// command that started it: later commands find it through its socket and reuse it until `tributary server stop`.
struct EmbeddedServer {
    /// `.tributary` under the directory the CLI runs in, as an absolute path.
    let directory: String

    /// The longest unix socket path Linux accepts (`sun_path` is 108 bytes with the terminating NUL).
    static let maximumSocketPathLength = 107

    init(baseDirectory: String = FileManager.default.currentDirectoryPath) {
        directory = (baseDirectory.hasSuffix("/") ? baseDirectory : baseDirectory + "/") + ".tributary"
    }

    var socketPath: String { directory + "/redis.sock" }
    var pidFile: String { directory + "/redis.pid" }
    var logFile: String { directory + "/redis.log" }
    var configFile: String { directory + "/redis.conf" }
    private var lockFile: String { directory + "/start.lock" }

    /// A URL for other clients (`redis-cli -s`, BullMQ) that names the socket.
    var url: String { "unix://" + socketPath }

    /// How to connect to it.
    var configuration: RedisConfiguration {
        RedisConfiguration(endpoint: .unixSocket(path: socketPath))
    }

    // MARK: Finding it

    enum Liveness {
        case running
        /// The server is up but still loading its data.
        case loading
        case stopped
    }

    /// Whether a server answers PING on the socket.
    func liveness() async -> Liveness {
        guard FileManager.default.fileExists(atPath: socketPath), let client = try? await connectQuietly() else {
            return .stopped
        }
        let liveness: Liveness
        do {
            liveness = try await client.send(RedisCommand("PING")).string == "PONG" ? .running : .stopped
        } catch let error as RedisServerError where error.code == "LOADING" {
            liveness = .loading
        } catch {
            liveness = .stopped
        }
        await client.close()
        return liveness
    }

    /// A client that neither reconnects nor logs: for probing and for SHUTDOWN.
    private func connectQuietly() async throws -> RedisClient {
        var configuration = self.configuration
        configuration.connectTimeout = .seconds(2)
        configuration.reconnect = .init(enabled: false)
        var logger = Logger(label: "tributary.embedded")
        logger.logLevel = .critical
        return try await RedisClient.connect(configuration, logger: logger)
    }

    // MARK: Starting

    /// Starts the server unless one already answers; returns whether it started one. Concurrent callers are
    /// serialized with a lock file, so only one server is ever started.
    ///
    /// - Throws: ``CLIError`` (status 3) when redis-server is missing, the socket path is too long, or the
    ///   server does not come up.
    @discardableResult
    func ensureRunning() async throws -> Bool {
        if await liveness() == .running { return false }
        let name = ProcessInfo.processInfo.environment["TRIBUTARY_REDIS_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let executable = ChildProcess.executablePath(name ?? "redis-server") else {
            let which = name.map { "\($0) (TRIBUTARY_REDIS_SERVER) is not an executable" } ?? "redis-server is not installed"
            throw CLIError("\(which): install the Debian package 'redis-server' (sudo apt-get install redis-server), "
                + "or pass --redis URL", status: .redisUnavailable)
        }
        guard socketPath.utf8.count <= Self.maximumSocketPathLength else {
            throw CLIError("the embedded Redis socket path \(socketPath) is \(socketPath.utf8.count) bytes long, but unix "
                + "socket paths are limited to \(Self.maximumSocketPathLength) bytes: run tributary from a directory "
                + "with a shorter path, or pass --redis URL", status: .redisUnavailable)
        }
        try makeDirectory()
        let lock = try FileLock(path: lockFile)
        defer { lock.release() }
        await lock.acquire()
        switch await liveness() {
        case .running: return false
        case .loading:
            try await waitUntilReady(pid: nil)
            return false
        case .stopped:
            try await start(executable: executable)
            return true
        }
    }

    private func makeDirectory() throws {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw CLIError("cannot create \(directory): \(String(cString: strerror(errno)))", status: .redisUnavailable)
        }
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw CLIError("\(directory) exists but is not a directory", status: .redisUnavailable)
        }
        if info.st_mode & 0o777 != 0o700 { chmod(directory, 0o700) }
    }

    private func start(executable: String) async throws {
        try redisConfiguration().write(toFile: configFile, atomically: true, encoding: .utf8)
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        let launcher: pid_t
        do {
            launcher = try ChildProcess.spawn(executable, arguments: [configFile], stdin: devNull, stdout: devNull,
                                              stderr: devNull, newProcessGroup: true)
        } catch {
            throw CLIError("cannot start redis-server: \(error)", status: .redisUnavailable)
        }
        // With `daemonize yes` the process we started forks the server and exits at once.
        var status: Int32?
        for _ in 0..<500 where status == nil {
            status = ChildProcess.waitForExit(launcher, timeout: .zero)
            if status == nil { try? await Task.sleep(for: .milliseconds(20)) }
        }
        guard status == 0 else {
            if status == nil { ChildProcess.terminate(launcher) }
            throw CLIError("redis-server did not start (status \(status.map(String.init) ?? "none")); its log says:\n"
                + logTail(), status: .redisUnavailable)
        }
        try await waitUntilReady(pid: nil)
    }

    /// Waits up to 60 s until the server answers PING (it may be replaying a large AOF).
    private func waitUntilReady(pid: pid_t?) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await liveness() == .running { return }
            if let serverPID = readPIDFile(), !Self.isAlive(serverPID) { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        throw CLIError("the embedded redis-server in \(directory) did not become ready; its log says:\n" + logTail(),
                       status: .redisUnavailable)
    }

    /// The server's configuration file.
    func redisConfiguration() -> String {
        func quoted(_ path: String) -> String {
            "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return """
            # Written by `tributary` each time it starts the embedded Redis; edits are overwritten.
            port 0
            unixsocket \(quoted(socketPath))
            unixsocketperm 700
            dir \(quoted(directory))
            daemonize yes
            pidfile \(quoted(pidFile))
            logfile \(quoted(logFile))
            appendonly yes
            appendfsync everysec
            save ""
            maxmemory-policy noeviction
            always-show-logo no

            """
    }

    // MARK: Stopping

    /// Stops the server (SHUTDOWN, or SIGTERM to the pid in the pid file when it does not answer) and waits up to
    /// `timeout` for it to exit. Returns the pid it stopped, or `nil` when none was running.
    func stop(timeout: Duration = .seconds(60)) async throws -> pid_t? {
        var pid: pid_t?
        if await liveness() != .stopped, let client = try? await connectQuietly() {
            let info = (try? await client.send(RedisCommand("INFO", "server")).string) ?? ""
            pid = Self.infoFields(info)["process_id"].flatMap { pid_t($0) }
            do {
                try await client.send(RedisCommand("SHUTDOWN"))
            } catch let error as RedisServerError {
                if let pid { kill(pid, SIGTERM) } else { throw CLIError("SHUTDOWN refused: \(error.message)") }
            } catch {
                // The server closes the connection as it exits: the expected outcome.
            }
            await client.close()
        } else if let filePID = readPIDFile(), Self.isAlive(filePID), Self.isRedisServer(filePID) {
            pid = filePID
            kill(filePID, SIGTERM)
        }
        guard let pid else { return nil }
        let deadline = ContinuousClock.now + timeout
        while Self.isAlive(pid) {
            guard ContinuousClock.now < deadline else {
                throw CLIError("redis-server (pid \(pid)) is still running \(timeout) after it was asked to stop; see \(logFile)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return pid
    }

    // MARK: Status

    /// `INFO` of the running server, field by field, or `nil` when it is not running.
    func info() async throws -> [String: String]? {
        guard await liveness() != .stopped else { return nil }
        let client = try await connectQuietly()
        do {
            let text = try await client.send(RedisCommand("INFO", "all")).string ?? ""
            await client.close()
            return Self.infoFields(text)
        } catch {
            await client.close()
            throw error
        }
    }

    static func infoFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    func readPIDFile() -> pid_t? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The last 30 lines of the server's log.
    func logTail() -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(no log at \(logFile))"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(30).joined(separator: "\n")
    }

    /// Whether `pid` is a live process (a zombie counts as gone: the server is not our child, and the container's
    /// init may not reap it).
    static func isAlive(_ pid: pid_t) -> Bool {
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
            return state != "Z" && state != "X"
        }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static func isRedisServer(_ pid: pid_t) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return true }
        return String(decoding: data, as: UTF8.self).contains("redis-server")
    }
}

/// An exclusive `flock` on a file, taken without blocking a thread.
private final class FileLock {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))", status: .redisUnavailable)
        }
    }

    func acquire() async {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func release() {
        close(fd)
    }
}
