import Foundation
import Tributary

/// A private redis-server on a unix socket (mode 0700) in a fresh temporary directory, for commands run without
/// `--redis`. Stopped by ``stop()``.
final class PrivateRedisServer {
    let directory: URL
    var socketPath: String { directory.appendingPathComponent("redis.sock").path }
    var url: String { "unix://\(socketPath)" }
    private var pid: pid_t?

    /// Starts redis-server and waits until its socket exists.
    init() throws {
        guard let executable = ChildProcess.executablePath("redis-server") else {
            throw CLIError("redis-server is not installed: install the Debian package 'redis-server' (apt-get install redis-server), or pass --redis URL")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let arguments = [
            "--port", "0", "--unixsocket", directory.appendingPathComponent("redis.sock").path, "--unixsocketperm", "700",
            "--dir", directory.path, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
            "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        let pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: devNull, stdout: devNull, stderr: devNull,
                                         newProcessGroup: true)
        self.pid = pid
        for _ in 0..<250 {
            if FileManager.default.fileExists(atPath: socketPath) { return }
            if ChildProcess.waitForExit(pid, timeout: .zero) != nil { self.pid = nil; break }
            usleep(20_000)
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        stop()
        throw CLIError("redis-server did not start:\n\(log.suffix(2000))")
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its directory.
    func stop() {
        if let pid {
            ChildProcess.terminate(pid)
            self.pid = nil
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
