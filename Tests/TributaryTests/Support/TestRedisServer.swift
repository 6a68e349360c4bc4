import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private redis-server for one test (or a suite), in its own temp directory; stopped by ``stop()``.
///
/// The server listens only on loopback (127.0.0.1, plus ::1 when available) and/or on a unix
/// socket inside its directory; it never touches a system redis on 6379. It is started with
/// `posix_spawn` as a direct child of the test process and is guarded by a tiny `sh` watchdog that
/// `SIGKILL`s it (and removes the directory) if the test process dies without stopping it, so a
/// crashing or aborted test run leaves no redis-server behind.
///
/// Thread-safe: the mutable process state lives behind a `Mutex`, so the type is honestly `Sendable`.
final class TestRedisServer: Sendable {
    /// How to configure a ``TestRedisServer``.
    struct Options: Sendable {
        /// Listen on 127.0.0.1 (and ::1 if available) on a free port.
        var tcp: Bool = true
        /// Listen on `<directory>/redis.sock` (`unixsocketperm 700`).
        var unixSocket: Bool = true
        /// Also listen on a TLS port, using ``TestCertificates`` generated in the directory.
        var tls: Bool = false
        /// The `tls-auth-clients` setting: `"yes"`, `"no"` or `"optional"`.
        var tlsAuthClients: String = "optional"
        /// The default user's password (`requirepass`), or `nil` for no password.
        var requirePassword: String? = nil
        /// Extra ACL users, written as `user NAME on >PASSWORD RULES` (e.g. `("worker", "s3cret", "~* &* +@all")`).
        var aclUsers: [(name: String, password: String, rules: String)] = []
        /// Extra `directive value` lines appended verbatim to the generated config (later lines win).
        var extraConfig: [String] = []
        /// Enable the append-only file (`appendonly yes`).
        var appendOnly: Bool = false

        /// Creates options; every parameter defaults to the value documented on its property.
        init(tcp: Bool = true, unixSocket: Bool = true, tls: Bool = false, tlsAuthClients: String = "optional",
             requirePassword: String? = nil, aclUsers: [(name: String, password: String, rules: String)] = [],
             extraConfig: [String] = [], appendOnly: Bool = false) {
            self.tcp = tcp
            self.unixSocket = unixSocket
            self.tls = tls
            self.tlsAuthClients = tlsAuthClients
            self.requirePassword = requirePassword
            self.aclUsers = aclUsers
            self.extraConfig = extraConfig
            self.appendOnly = appendOnly
        }
    }

    /// Errors thrown by the harness.
    enum Failure: Error, CustomStringConvertible {
        /// The options cannot produce a usable server (e.g. no listener at all).
        case invalidOptions(String)
        /// redis-server exited or did not become ready; `log` holds its log output for this attempt.
        case startupFailed(reason: String, log: String)
        /// The server was stopped with ``TestRedisServer/stop()`` and cannot be restarted.
        case stopped
        /// A redis-cli invocation exited with a nonzero status (including error replies, via `-e`).
        case commandFailed(TestProcessResult)

        /// A human-readable explanation, including redis-server's log or redis-cli's output.
        var description: String {
            switch self {
            case .invalidOptions(let message): return "invalid TestRedisServer options: \(message)"
            case .startupFailed(let reason, let log): return "redis-server failed to start: \(reason)\n--- redis.log ---\n\(log)"
            case .stopped: return "the TestRedisServer was stopped"
            case .commandFailed(let result): return "redis-cli failed: \(result)"
            }
        }

        /// Whether this is a startup failure caused by a port already being in use.
        var isAddressInUse: Bool {
            if case .startupFailed(_, let log) = self { return log.contains("Address already in use") }
            return false
        }
    }

    /// Which credentials ``runCLI(_:auth:timeout:)`` passes to redis-cli.
    enum CLIAuth: Sendable {
        /// The default user with ``Options/requirePassword`` when one is set, otherwise no credentials.
        case configured
        /// No credentials at all.
        case none
        /// `--user NAME --pass PASSWORD`.
        case user(String, password: String)
    }

    /// One running redis-server process and its watchdog.
    struct Running: Sendable {
        /// The redis-server pid.
        var pid: pid_t
        /// The pid of the `sh` watchdog that kills redis-server if the test process dies.
        var watchdogPID: pid_t
        /// Our (write) end of the watchdog's stdin pipe; closing it (e.g. by dying) fires the watchdog.
        var watchdogFD: Int32
        /// Set once redis-server has been reaped, so its pid is never signalled again.
        var exited: Bool = false
    }

    /// The mutable part of the server, guarded by ``state``.
    private struct State: Sendable {
        /// The current process, if any (nil after ``kill()``/``stop()`` or during ``restart()``).
        var running: Running?
        /// The pid of the most recently started process.
        var lastPID: pid_t
        /// Set by ``stop()``; the server can no longer be restarted.
        var stopped = false
    }

    /// The options the server was started with.
    let options: Options
    /// The server's private temp directory (config, log, socket, certificates, data).
    let directory: String
    /// The TCP port on 127.0.0.1, or 0 if ``Options/tcp`` is false.
    let port: Int
    /// The TLS port, or 0 if ``Options/tls`` is false.
    let tlsPort: Int
    /// The unix socket path, or `""` if ``Options/unixSocket`` is false.
    let socketPath: String
    /// The generated TLS material, or `nil` if ``Options/tls`` is false.
    let certificates: TestCertificates?
    /// The generated `redis.conf`.
    let configPath: String
    /// The server's log file (redis' own log plus its stdout/stderr).
    let logPath: String
    /// The absolute path of the redis-server executable.
    private let executable: String
    /// Process state shared by all threads.
    private let state: Mutex<State>

    /// Wraps an already-launched process; use ``start(_:)``.
    private init(options: Options, directory: String, port: Int, tlsPort: Int, socketPath: String,
                 certificates: TestCertificates?, executable: String, running: Running) {
        self.options = options
        self.directory = directory
        self.port = port
        self.tlsPort = tlsPort
        self.socketPath = socketPath
        self.certificates = certificates
        self.configPath = directory + "/redis.conf"
        self.logPath = directory + "/redis.log"
        self.executable = executable
        self.state = Mutex(State(running: running, lastPID: running.pid))
    }

    /// Stops the server if the owner forgot to.
    deinit {
        stop()
    }

    /// `"redis://127.0.0.1:PORT"`, or `""` without TCP.
    var tcpURL: String { port > 0 ? "redis://127.0.0.1:\(port)" : "" }
    /// `"unix://" + socketPath`, or `""` without a unix socket.
    var unixURL: String { socketPath.isEmpty ? "" : "unix://" + socketPath }
    /// `"rediss://localhost:TLSPORT"` (matching the certificate's SAN), or `""` without TLS.
    var tlsURL: String { tlsPort > 0 ? "rediss://localhost:\(tlsPort)" : "" }

    /// The pid of the most recently started redis-server (still reported after ``kill()``/``stop()``).
    var pid: Int32 { state.withLock { $0.lastPID } }

    /// Whether the redis-server process is currently alive (reaps it if it died on its own).
    var isRunning: Bool {
        state.withLock { state in
            guard var running = state.running, !running.exited else { return false }
            guard TestProcess.waitForExit(running.pid, timeout: .zero) == nil else {
                running.exited = true
                state.running = running
                return false
            }
            return true
        }
    }

    /// Starts a new server with `options` in a fresh temp directory and waits until it answers.
    /// Retries with new ports (up to 5 attempts) if a chosen port turns out to be taken.
    static func start(_ options: Options = .init()) async throws -> TestRedisServer {
        try validate(options)
        let executable = try TestProcess.executablePath("redis-server")
        let directory = try makeTemporaryDirectory()
        do {
            let certificates = options.tls ? try TestCertificates.generate(in: directory) : nil
            let socketPath = options.unixSocket ? directory + "/redis.sock" : ""
            var attempt = 1
            while true {
                let port = options.tcp ? try TestNetwork.freePort() : 0
                let tlsPort = options.tls ? try TestNetwork.freePort() : 0
                let config = renderConfig(options: options, directory: directory, port: port, tlsPort: tlsPort,
                                          socketPath: socketPath, certificates: certificates)
                try config.write(toFile: directory + "/redis.conf", atomically: true, encoding: .utf8)
                do {
                    let running = try await launch(
                        executable: executable, directory: directory,
                        probe: Probe(socketPath: socketPath, port: port, tlsPort: tlsPort, certificates: certificates))
                    return TestRedisServer(options: options, directory: directory, port: port, tlsPort: tlsPort,
                                           socketPath: socketPath, certificates: certificates,
                                           executable: executable, running: running)
                } catch let failure as Failure where failure.isAddressInUse && attempt < 5 {
                    attempt += 1
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Runs redis-cli against this server (see ``cliConnectionArguments()``), authenticated as the
    /// default user when ``Options/requirePassword`` is set, and returns its trimmed stdout.
    /// Throws ``Failure/commandFailed(_:)`` on a nonzero exit, which (thanks to `-e`) includes error replies.
    func cli(_ args: String...) throws -> String {
        try cli(arguments: args)
    }

    /// Array form of ``cli(_:)``.
    func cli(arguments: [String]) throws -> String {
        let result = try runCLI(["-e"] + arguments)
        guard result.succeeded else { throw Failure.commandFailed(result) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs redis-cli with this server's connection arguments, the given credentials and then
    /// `arguments`, and returns the full result without judging the exit status.
    func runCLI(_ arguments: [String], auth: CLIAuth = .configured, timeout: Duration = .seconds(30)) throws -> TestProcessResult {
        var credentials: [String] = []
        switch auth {
        case .configured:
            if let password = options.requirePassword { credentials = ["-a", password, "--no-auth-warning"] }
        case .none:
            break
        case .user(let name, let password):
            credentials = ["--user", name, "--pass", password, "--no-auth-warning"]
        }
        return try TestProcess.run("redis-cli", cliConnectionArguments() + credentials + arguments, timeout: timeout)
    }

    /// The redis-cli arguments that reach this server: `-s SOCKET` if there is a unix socket, else
    /// `-h 127.0.0.1 -p PORT`, else TLS (`--tls --cacert … --cert … --key … -h localhost -p TLSPORT`).
    func cliConnectionArguments() -> [String] {
        if !socketPath.isEmpty { return ["-s", socketPath] }
        if port > 0 { return ["-h", "127.0.0.1", "-p", String(port)] }
        if let certificates, tlsPort > 0 {
            return ["--tls", "--cacert", certificates.caFile, "--cert", certificates.clientCertFile,
                    "--key", certificates.clientKeyFile, "-h", "localhost", "-p", String(tlsPort)]
        }
        return []
    }

    /// The whole log file (all runs, including restarts), or `""` if it cannot be read.
    func readLog() -> String {
        Self.readLog(at: logPath, from: 0)
    }

    /// Stops the server: `SIGTERM`, up to 5 s for a clean exit, then `SIGKILL`; then removes the
    /// directory. Idempotent, blocking, and safe to call from any thread and from `deinit`.
    func stop() {
        let (running, firstStop) = state.withLock { state in
            let running = state.running
            let firstStop = !state.stopped
            state.running = nil
            state.stopped = true
            return (running, firstStop)
        }
        if let running { Self.terminate(running, graceful: true) }
        if firstStop { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Stops the process gracefully (if running) and starts it again with the same ports, socket,
    /// directory and config. Data survives only if persisted (e.g. ``Options/appendOnly``).
    /// Throws ``Failure/stopped`` after ``stop()``. Do not call concurrently with itself.
    func restart() async throws {
        let previous: Running? = try state.withLock { state in
            guard !state.stopped else { throw Failure.stopped }
            defer { state.running = nil }
            return state.running
        }
        if let previous { Self.terminate(previous, graceful: true) }
        let probe = Probe(socketPath: socketPath, port: port, tlsPort: tlsPort, certificates: certificates)
        var attempt = 1
        while true {
            do {
                let running = try await Self.launch(executable: executable, directory: directory, probe: probe)
                let accepted = state.withLock { state in
                    guard !state.stopped, state.running == nil else { return false }
                    state.running = running
                    state.lastPID = running.pid
                    return true
                }
                guard accepted else {
                    Self.terminate(running, graceful: false)
                    throw Failure.stopped
                }
                return
            } catch let failure as Failure where failure.isAddressInUse && attempt < 5 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Simulates a crash: `SIGKILL`s redis-server (no shutdown save) and reaps it. The directory is
    /// kept, so ``restart()`` can bring the server back; ``stop()`` still cleans up.
    func kill() {
        let running = state.withLock { state in
            defer { state.running = nil }
            return state.running
        }
        if let running { Self.terminate(running, graceful: false) }
    }
}

/// Starts a ``TestRedisServer`` with `options`, runs `body` with it, and always stops the server
/// afterwards (also when `body` throws or the task is cancelled), returning `body`'s result.
func withRedisServer<T>(
    _ options: TestRedisServer.Options = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestRedisServer) async throws -> T
) async throws -> T {
    let server = try await TestRedisServer.start(options)
    defer { server.stop() }
    return try await body(server)
}
