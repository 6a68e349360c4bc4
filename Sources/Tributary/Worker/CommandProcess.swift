#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One running command step: a child in its own process group, fed its input on stdin while stdout and stderr
/// are collected.
///
/// The group dies with the worker: it is led by a guard (`/bin/sh`, started before the command) that waits for
/// end-of-file on a pipe whose only writer is this process, then SIGKILLs the group. When the worker process
/// ends in any way, `kill -9` included, the kernel closes the pipe and the command, with every child it started
/// in its group, is killed, so it cannot finish a side effect while the job runs again elsewhere. (The kernel's
/// `PR_SET_PDEATHSIG` is no alternative: it cannot be set through `posix_spawn`, follows the spawning thread
/// rather than the process, and reaches only the command, not its children.) The guard ignores SIGTERM and
/// SIGINT, so a timeout's SIGTERM to the group reaches the command while the guard stays on watch until SIGKILL.
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
    /// The process group: the guard's pid.
    private let group: pid_t
    /// The guard (see above) and the write end of its pipe; both are -1 once it has been stopped.
    private var guardPID: pid_t
    private var guardPipe: Int32
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

    private init(pid: pid_t, groupGuard: (pid: pid_t, pipe: Int32), input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32,
                 maxOutputBytes: Int) {
        self.pid = pid
        self.group = groupGuard.pid
        self.guardPID = groupGuard.pid
        self.guardPipe = groupGuard.pipe
        self.input = input
        self.stdinFD = stdin
        self.stdoutFD = stdout
        self.stderrFD = stderr
        self.maxOutputBytes = maxOutputBytes
    }

    deinit {
        // Closing the pipe while the guard still watches (finish() never ran) makes it kill the group.
        for fd in [stdinFD, stdoutFD, stderrFD, guardPipe] where fd >= 0 { close(fd) }
    }

    /// What the guard runs: ignore the signals a timeout or a terminal sends, wait for end-of-file on stdin, then
    /// SIGKILL its own process group (the command's).
    private static let guardScript = #"trap '' TERM INT HUP QUIT; read line; kill -s KILL -- -$$"#

    /// Starts the guard in a new process group, reading the returned pipe's other end.
    private static func startGuard(command: [String]) throws -> (pid: pid_t, pipe: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw CommandStepError(.notFound, command: command, "could not start its guard: pipe failed: \(String(cString: strerror(errno)))")
        }
        // No other child may inherit the write end, or the guard would never see end-of-file.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer {
            close(fds[0])
            if devNull >= 0 { close(devNull) }
        }
        do {
            let pid = try ChildProcess.spawn("/bin/sh", arguments: ["-c", guardScript], stdin: fds[0], stdout: devNull,
                                             stderr: devNull, newProcessGroup: true)
            return (pid, fds[1])
        } catch {
            close(fds[1])
            throw CommandStepError(.notFound, command: command, "could not start its guard (/bin/sh): \(error)")
        }
    }

    /// Spawns the command in a new process group, led by a guard that kills the group if this process dies.
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
        let groupGuard: (pid: pid_t, pipe: Int32)
        do {
            // The guard first, so there is no moment when the command runs unguarded.
            groupGuard = try startGuard(command: [executable] + arguments)
        } catch {
            for pair in pairs { close(pair.parent) }
            throw error
        }
        do {
            pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: pairs[0].child, stdout: pairs[1].child,
                                         stderr: pairs[2].child, joinProcessGroup: groupGuard.pid,
                                         workingDirectory: workingDirectory, environment: environment)
        } catch {
            for pair in pairs { close(pair.parent) }
            close(groupGuard.pipe)  // the guard kills its (empty) group and exits
            _ = ChildProcess.waitForExit(groupGuard.pid, timeout: .seconds(5)) ?? {
                kill(groupGuard.pid, SIGKILL)
                return ChildProcess.waitForExit(groupGuard.pid, timeout: nil)
            }()
            throw CommandStepError(.notFound, command: [executable] + arguments, "\(error)")
        }
        let process = CommandProcess(pid: pid, groupGuard: groupGuard, input: input, stdin: pairs[0].parent,
                                     stdout: pairs[1].parent, stderr: pairs[2].parent, maxOutputBytes: maxOutputBytes)
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
    /// (SIGTERM, then SIGKILL after `killGrace`). The child and the guard are always reaped before this returns.
    func finish(deadline: ContinuousClock.Instant, killGrace: Duration) async -> Outcome {
        let outcome = await collect(deadline: deadline, killGrace: killGrace)
        await stopGuard()
        return outcome
    }

    /// Stops the guard without touching the rest of the group (background children of a command that exited
    /// normally are left alone, as without a guard), reaps it and closes its pipe.
    private func stopGuard() async {
        guard guardPID > 0 else { return }
        _ = kill(guardPID, SIGKILL)
        while ChildProcess.waitForExit(guardPID, timeout: .zero) == nil {
            await Self.uncancellableSleep(.milliseconds(1))
        }
        guardPID = -1
        // Only now: closing it while the guard lived would have made it kill the group.
        close(guardPipe)
        guardPipe = -1
    }

    private func collect(deadline: ContinuousClock.Instant, killGrace: Duration) async -> Outcome {
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
                    _ = kill(-group, SIGKILL)
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
        _ = kill(-group, SIGTERM)
        if !alreadyExited {
            let deadline = ContinuousClock.now + grace
            while ChildProcess.waitForExit(pid, timeout: .zero) == nil {
                guard ContinuousClock.now < deadline else {
                    _ = kill(-group, SIGKILL)
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
        _ = kill(-group, SIGKILL)  // whatever else is left in the group, the guard included
        drainRemaining()
    }

    /// Sleeps even when the current task is cancelled.
    private static func uncancellableSleep(_ duration: Duration) async {
        await Task.detached { try? await Task.sleep(for: duration) }.value
    }
}
