#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One running command step: a child in its own process group, fed its input on stdin while stdout and stderr
/// are collected.
///
/// Nothing here blocks a thread: the descriptors are non-blocking and ``finish(deadline:killGrace:)`` polls them,
/// sleeping between polls (1 ms at first, up to 25 ms while the command is quiet), so a long command costs no
/// thread of the cooperative pool. Used by one task only.
final class CommandProcess {
    /// How a command ended.
    enum Outcome: Equatable {
        /// It exited; the status is `128 + signal` when a signal ended it.
        case exited(Int32)
        case timedOut
        case outputTooLarge
        case cancelled
    }

    let pid: pid_t
    private var input: [UInt8]
    private var inputOffset = 0
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private let maxOutputBytes: Int
    /// Everything read from stdout.
    private(set) var stdout: [UInt8] = []
    /// The end of stderr (at most 64 KiB are kept).
    private(set) var stderr: [UInt8] = []
    private static let keptStderr = 64 * 1024

    private init(pid: pid_t, input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32, maxOutputBytes: Int) {
        self.pid = pid
        self.input = input
        self.stdinFD = stdin
        self.stdoutFD = stdout
        self.stderrFD = stderr
        self.maxOutputBytes = maxOutputBytes
    }

    deinit {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
    }

    /// Spawns the command in a new process group.
    ///
    /// - Throws: ``CommandStepError`` `notFound` when it cannot be started.
    static func start(executable: String, arguments: [String], input: [UInt8], workingDirectory: String?,
                      environment: [String: String], maxOutputBytes: Int) throws -> CommandProcess {
        var pairs: [(parent: Int32, child: Int32)] = []
        defer { for pair in pairs where pair.child >= 0 { close(pair.child) } }
        do {
            for _ in 0..<3 { pairs.append(try socketPair()) }
        } catch {
            for pair in pairs { close(pair.parent) }
            throw CommandStepError(.notFound, command: [executable] + arguments, "could not start \(executable): \(error)")
        }
        // Shut the unused directions, so the child sees EOF on stdin once the input is written.
        shutdown(pairs[0].parent, Int32(SHUT_RD))
        for pair in pairs {
            let flags = fcntl(pair.parent, F_GETFL)
            _ = fcntl(pair.parent, F_SETFL, flags | O_NONBLOCK)
        }
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: pairs[0].child, stdout: pairs[1].child,
                                         stderr: pairs[2].child, newProcessGroup: true, workingDirectory: workingDirectory,
                                         environment: environment)
        } catch {
            for pair in pairs { close(pair.parent) }
            throw CommandStepError(.notFound, command: [executable] + arguments, "\(error)")
        }
        let process = CommandProcess(pid: pid, input: input, stdin: pairs[0].parent, stdout: pairs[1].parent,
                                     stderr: pairs[2].parent, maxOutputBytes: maxOutputBytes)
        if input.isEmpty { process.closeStdin() }
        return process
    }

    /// A connected pair of stream sockets, close-on-exec; used like a pipe (`send` with `MSG_NOSIGNAL` avoids
    /// SIGPIPE when the child exits without reading its input).
    private static func socketPair() throws -> (parent: Int32, child: Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw CommandStepError(.notFound, command: [], "socketpair failed: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Feeds stdin and collects output until the command exits and its outputs close, the deadline passes, the
    /// output limit is exceeded or the task is cancelled; in the last three cases the process group is killed
    /// (SIGTERM, then SIGKILL after `killGrace`). The child is always reaped before this returns.
    func finish(deadline: ContinuousClock.Instant, killGrace: Duration) async -> Outcome {
        var pause = Duration.milliseconds(1)
        var exitStatus: Int32?
        var exitedAt: ContinuousClock.Instant?
        while true {
            var progressed = writeInput()
            progressed = readAvailable(from: &stdoutFD, into: &stdout, limit: maxOutputBytes + 1) || progressed
            progressed = readAvailable(from: &stderrFD, into: &stderr, limit: .max) || progressed
            if stderr.count > 2 * Self.keptStderr { stderr.removeFirst(stderr.count - Self.keptStderr) }
            if stdout.count > maxOutputBytes {
                await terminateGroup(grace: killGrace, alreadyExited: exitStatus != nil)
                return .outputTooLarge
            }
            if exitStatus == nil, let status = ChildProcess.waitForExit(pid, timeout: .zero) {
                exitStatus = status
                exitedAt = .now
                closeStdin()
            }
            if let exitStatus {
                // Done when both outputs are closed; a background grandchild holding them open gets 2 s.
                if stdoutFD < 0 && stderrFD < 0 { return .exited(exitStatus) }
                if let exitedAt, ContinuousClock.now - exitedAt > .seconds(2) {
                    _ = kill(-pid, SIGKILL)
                    drainRemaining()
                    return .exited(exitStatus)
                }
            }
            if ContinuousClock.now >= deadline {
                await terminateGroup(grace: killGrace, alreadyExited: exitStatus != nil)
                return .timedOut
            }
            if Task.isCancelled {
                await terminateGroup(grace: killGrace, alreadyExited: exitStatus != nil)
                return .cancelled
            }
            pause = progressed ? .milliseconds(1) : min(pause * 2, .milliseconds(25))
            try? await Task.sleep(for: pause)
        }
    }

    /// Writes as much pending input as the socket takes; returns whether any was written.
    private func writeInput() -> Bool {
        guard stdinFD >= 0 else { return false }
        guard inputOffset < input.count else {
            closeStdin()
            return false
        }
        let written = input.withUnsafeBytes { buffer in
            send(stdinFD, buffer.baseAddress! + inputOffset, buffer.count - inputOffset, Int32(MSG_NOSIGNAL))
        }
        if written > 0 {
            inputOffset += written
            if inputOffset == input.count { closeStdin() }
            return true
        }
        if written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            closeStdin()  // EPIPE: the child does not read its input
        }
        return false
    }

    private func closeStdin() {
        guard stdinFD >= 0 else { return }
        close(stdinFD)
        stdinFD = -1
        input = []
    }

    /// Reads what is available from `fd` into `buffer`, stopping once `buffer` holds `limit` bytes; closes `fd`
    /// (and sets it to -1) at end of file.
    private func readAvailable(from fd: inout Int32, into buffer: inout [UInt8], limit: Int) -> Bool {
        guard fd >= 0 else { return false }
        var progressed = false
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                progressed = true
                if buffer.count >= limit { return true }
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return progressed }
            if count < 0 && errno == EINTR { continue }
            close(fd)
            fd = -1
            return true
        }
    }

    /// Reads what is already buffered on both outputs, then closes them.
    private func drainRemaining() {
        _ = readAvailable(from: &stdoutFD, into: &stdout, limit: maxOutputBytes + 1)
        _ = readAvailable(from: &stderrFD, into: &stderr, limit: .max)
        for fd in [stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdoutFD = -1
        stderrFD = -1
    }

    /// SIGTERM to the process group, SIGKILL after `grace` if the leader is still there, then reaps the leader.
    private func terminateGroup(grace: Duration, alreadyExited: Bool) async {
        closeStdin()
        _ = kill(-pid, SIGTERM)
        if !alreadyExited {
            let deadline = ContinuousClock.now + grace
            while ChildProcess.waitForExit(pid, timeout: .zero) == nil {
                guard ContinuousClock.now < deadline else {
                    _ = kill(-pid, SIGKILL)
                    // A SIGKILLed child is gone within moments.
                    while ChildProcess.waitForExit(pid, timeout: .zero) == nil {
                        await Self.uncancellableSleep(.milliseconds(5))
                    }
                    break
                }
                // Sleeps here must not be cut short by the cancellation that may have brought us here.
                await Self.uncancellableSleep(.milliseconds(20))
            }
        }
        _ = kill(-pid, SIGKILL)  // whatever else is left in the group
        drainRemaining()
    }

    /// Sleeps even when the current task is cancelled.
    private static func uncancellableSleep(_ duration: Duration) async {
        await Task.detached { try? await Task.sleep(for: duration) }.value
    }
}
