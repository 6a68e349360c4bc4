#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starting and reaping child processes (redis-server, redis-cli, command steps) with `posix_spawn`.
///
/// Children start with an empty signal mask and default dispositions for the usual signals: Swift's concurrency
/// threads block signals, and a child spawned from one (as Foundation's `Process` does) would inherit that mask
/// and ignore SIGTERM. They inherit no file descriptors beyond stdin, stdout and stderr.
package enum ChildProcess {
    /// `posix_spawn` failed.
    package struct SpawnError: Error, CustomStringConvertible {
        package let executable: String
        package let errno: Int32
        package var description: String { "could not start \(executable): \(String(cString: strerror(errno)))" }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), which Swift does not import.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// glibc's `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29), looked up the same way.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// The current process's environment as a dictionary.
    package static var currentEnvironment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// The absolute path of `name`, searched in `PATH`, then `/usr/local/bin`, `/usr/bin`, `/usr/sbin` and `/bin`;
    /// `name` itself when it contains a slash.
    package static func executablePath(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Spawns `executable` (an absolute path) with `arguments`, wiring the given descriptors to the child's
    /// stdin, stdout and stderr, and returns its pid; the caller reaps it with ``waitForExit(_:timeout:)``.
    /// With `newProcessGroup`, the child leads its own process group, so Ctrl-C in a terminal does not reach it;
    /// with `joinProcessGroup`, it joins that existing group instead.
    /// `workingDirectory` is the child's current directory (the parent's when `nil`); `environment` replaces the
    /// inherited environment when given.
    package static func spawn(_ executable: String, arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32,
                              newProcessGroup: Bool = false, joinProcessGroup: pid_t? = nil, workingDirectory: String? = nil,
                              environment: [String: String]? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let workingDirectory {
            guard let addChdir else { throw SpawnError(executable: executable, errno: ENOSYS) }
            let code = addChdir(&actions, workingDirectory)
            guard code == 0 else { throw SpawnError(executable: executable, errno: code) }
        }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let addCloseFrom {
            _ = addCloseFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaulted = sigset_t()
        sigemptyset(&defaulted)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaulted, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaulted)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup || joinProcessGroup != nil {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, joinProcessGroup ?? 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = (environment ?? [:]).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }

        var pid = pid_t()
        let code = argv.withUnsafeMutableBufferPointer { buffer in
            guard environment != nil else { return posix_spawn(&pid, executable, &actions, &attributes, buffer.baseAddress!, environ) }
            return envp.withUnsafeMutableBufferPointer { envBuffer in
                posix_spawn(&pid, executable, &actions, &attributes, buffer.baseAddress!, envBuffer.baseAddress!)
            }
        }
        guard code == 0 else { throw SpawnError(executable: executable, errno: code) }
        return pid
    }

    /// Waits for child `pid` to exit and reaps it. A `nil` timeout blocks until it exits; otherwise this polls
    /// until the timeout (`.zero` checks once). Returns the exit code (or `128 + signal`), `-1` if the child was
    /// already reaped, or `nil` if it is still running when the timeout elapses.
    package static func waitForExit(_ pid: pid_t, timeout: Duration?) -> Int32? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, deadline == nil ? 0 : WNOHANG)
            if result == pid {
                let signal = raw & 0x7f
                return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            }
            if result < 0 {
                if errno == EINTR { continue }
                return -1
            }
            guard let deadline, ContinuousClock.now < deadline else { return nil }
            usleep(5_000)
        }
    }

    /// Sends SIGTERM, waits up to `grace` for the child to exit, then sends SIGKILL and reaps it.
    /// Returns the exit status.
    @discardableResult
    package static func terminate(_ pid: pid_t, grace: Duration = .seconds(10)) -> Int32 {
        kill(pid, SIGTERM)
        if let status = waitForExit(pid, timeout: grace) { return status }
        kill(pid, SIGKILL)
        return waitForExit(pid, timeout: nil) ?? 128 + SIGKILL
    }
}
