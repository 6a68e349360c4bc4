import Tributary

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of a child process run to completion by ``TestProcess/run(_:_:timeout:)``.
struct TestProcessResult: Sendable, CustomStringConvertible {
    /// The absolute path of the executable that was run.
    var executable: String
    /// The arguments passed to the executable (without `argv[0]`).
    var arguments: [String]
    /// The exit code if the process exited normally, or `128 + signal` if a signal ended it.
    var status: Int32
    /// Everything the process wrote to its standard output, decoded as UTF-8.
    var stdout: String
    /// Everything the process wrote to its standard error, decoded as UTF-8.
    var stderr: String
    /// Whether the process was killed because it exceeded its timeout.
    var timedOut: Bool

    /// `true` when the process exited with status 0 within its timeout.
    var succeeded: Bool { status == 0 && !timedOut }

    /// A one-paragraph summary suitable for test failure messages.
    var description: String {
        let command = ([executable] + arguments).joined(separator: " ")
        let outcome = timedOut ? "timed out" : "exited with status \(status)"
        return "`\(command)` \(outcome); stdout: \(stdout.debugDescription); stderr: \(stderr.debugDescription)"
    }
}

/// Errors raised while starting or supervising child processes.
enum TestProcessError: Error, CustomStringConvertible {
    /// No executable with this name was found in `PATH` (nor in the usual system directories).
    case executableNotFound(String)
    /// `posix_spawn` failed for the executable with the given error number.
    case spawnFailed(executable: String, errno: Int32)
    /// A system call needed to set up the child failed.
    case systemCallFailed(String, errno: Int32)
    /// The process ran but did not succeed (nonzero exit status or timeout).
    case unsuccessful(TestProcessResult)

    /// A human-readable explanation of the failure.
    var description: String {
        switch self {
        case .executableNotFound(let name):
            return "executable '\(name)' not found in PATH"
        case .spawnFailed(let executable, let code):
            return "could not spawn \(executable): \(String(cString: strerror(code)))"
        case .systemCallFailed(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code)))"
        case .unsuccessful(let result):
            return result.description
        }
    }
}

/// Minimal, dependency-free child-process helpers built directly on `posix_spawn` and `waitpid`.
///
/// Children never inherit the parent's file descriptors beyond stdin/stdout/stderr (so a test's
/// client sockets are not kept open by a redis-server started concurrently), start with an empty
/// signal mask (Swift concurrency worker threads block signals, which would otherwise make a
/// redis-server ignore `SIGTERM`) and with default dispositions for the common signals.
enum TestProcess {
    /// Resolves `name` to an absolute executable path (see ``ChildProcess/executablePath(_:)``).
    static func executablePath(_ name: String) throws -> String {
        guard let path = ChildProcess.executablePath(name) else { throw TestProcessError.executableNotFound(name) }
        return path
    }

    /// Spawns a child with a clean signal mask and no inherited descriptors (see ``ChildProcess/spawn``).
    static func spawn(_ executable: String, arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32,
                      newProcessGroup: Bool = false) throws -> pid_t {
        do {
            return try ChildProcess.spawn(executable, arguments: arguments, stdin: stdin, stdout: stdout, stderr: stderr,
                                          newProcessGroup: newProcessGroup)
        } catch let error as ChildProcess.SpawnError {
            throw TestProcessError.spawnFailed(executable: executable, errno: error.errno)
        }
    }

    /// Runs `executable` (a name looked up in `PATH`, or a path) with `arguments` and collects its
    /// output. Blocks the calling thread; kills the child with `SIGKILL` after `timeout`.
    /// Never throws because of the child's exit status: inspect ``TestProcessResult/succeeded``.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)) throws -> TestProcessResult {
        let path = try executablePath(executable)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw TestProcessError.systemCallFailed("open(/dev/null)", errno: errno) }
        defer { close(input) }
        let stdoutPipe = try makePipe()
        let stderrPipe: (read: Int32, write: Int32)
        do { stderrPipe = try makePipe() } catch {
            close(stdoutPipe.read); close(stdoutPipe.write)
            throw error
        }
        let pid: pid_t
        do {
            pid = try spawn(path, arguments: arguments, stdin: input, stdout: stdoutPipe.write, stderr: stderrPipe.write)
        } catch {
            for fd in [stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write] { close(fd) }
            throw error
        }
        close(stdoutPipe.write)
        close(stderrPipe.write)
        defer { close(stdoutPipe.read); close(stderrPipe.read) }

        let deadline = ContinuousClock.now + timeout
        let (output, errorOutput, drained) = drain(stdoutPipe.read, stderrPipe.read, until: deadline)
        var timedOut = !drained
        var status: Int32
        if !timedOut, let exited = waitForExit(pid, timeout: max(deadline - ContinuousClock.now, .zero)) {
            status = exited
        } else {
            timedOut = true
            kill(pid, SIGKILL)
            status = waitForExit(pid, timeout: nil) ?? 128 + SIGKILL
        }
        return TestProcessResult(
            executable: path, arguments: arguments, status: status,
            stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errorOutput, as: UTF8.self),
            timedOut: timedOut)
    }

    /// Like ``run(_:_:timeout:)`` but throws ``TestProcessError/unsuccessful(_:)`` unless the process succeeded.
    @discardableResult
    static func runChecked(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)) throws -> TestProcessResult {
        let result = try run(executable, arguments, timeout: timeout)
        guard result.succeeded else { throw TestProcessError.unsuccessful(result) }
        return result
    }

    /// Waits for the child to exit and reaps it (see ``ChildProcess/waitForExit(_:timeout:)``).
    static func waitForExit(_ pid: pid_t, timeout: Duration?) -> Int32? {
        ChildProcess.waitForExit(pid, timeout: timeout)
    }

    /// Creates a unidirectional byte channel whose both ends are atomically close-on-exec
    /// (a `socketpair`, since Swift does not import `pipe2`); used exactly like a pipe.
    static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw TestProcessError.systemCallFailed("socketpair", errno: errno)
        }
        shutdown(fds[0], Int32(SHUT_WR))
        shutdown(fds[1], Int32(SHUT_RD))
        return (fds[0], fds[1])
    }

    /// Reads both descriptors until end-of-file on both or until `deadline`.
    /// Returns the bytes read from each and whether both reached end-of-file in time.
    private static func drain(_ first: Int32, _ second: Int32, until deadline: ContinuousClock.Instant) -> ([UInt8], [UInt8], Bool) {
        var buffers: [[UInt8]] = [[], []]
        var open = [true, true]
        let fds = [first, second]
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while open[0] || open[1] {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return (buffers[0], buffers[1], false) }
            var pollFDs = (0..<2).map { pollfd(fd: open[$0] ? fds[$0] : -1, events: Int16(POLLIN), revents: 0) }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1_000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), min(milliseconds, 100))
            if ready < 0 && errno != EINTR { return (buffers[0], buffers[1], false) }
            for index in 0..<2 where open[index] && pollFDs[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index], $0.baseAddress, $0.count) }
                if count > 0 {
                    buffers[index].append(contentsOf: chunk[0..<count])
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[index] = false
                }
            }
        }
        return (buffers[0], buffers[1], true)
    }
}
