import Foundation
import Tributary

/// A private redis-server for one benchmark run, in a temp directory, persistence off: on a free TCP port of
/// 127.0.0.1, or (with `unixSocket`) on a unix socket only.
final class RedisServerProcess {
    let port: Int
    let directory: URL
    let pid: pid_t
    /// The socket path when started with `unixSocket`, else nil.
    let socketPath: String?

    /// The URL clients connect with.
    var url: String { socketPath.map { "unix://\($0)" } ?? "redis://127.0.0.1:\(port)" }
    /// redis-cli's arguments that reach this server.
    var cliTarget: [String] { socketPath.map { ["-s", $0] } ?? ["-p", String(port)] }

    /// Starts the server; `extraArguments` are added to its command line (e.g. `--cluster-enabled yes`).
    init(unixSocket: Bool = false, extraArguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let socket = directory.appendingPathComponent("redis.sock").path
        socketPath = unixSocket ? socket : nil
        port = unixSocket ? 0 : Int.random(in: 20_000...40_000)
        var arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        if unixSocket { arguments += ["--unixsocket", socket, "--unixsocketperm", "700"] }
        arguments += extraArguments
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        pid = try ChildProcess.spawn("/usr/bin/redis-server", arguments: arguments, stdin: devNull, stdout: devNull, stderr: devNull,
                                     newProcessGroup: true)
        for _ in 0..<200 {
            if (try? Self.run("/usr/bin/redis-cli", cliTarget + ["PING"])) == "PONG" { return }
            usleep(20_000)
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        stop()
        throw BenchmarkError("redis-server did not start:\n\(log.suffix(2000))")
    }

    /// Runs one redis-cli command against this server and returns its output.
    func cli(_ arguments: [String]) throws -> String {
        try Self.run("/usr/bin/redis-cli", cliTarget + arguments)
    }

    /// Runs redis-benchmark against this server and returns requests per second from its CSV output.
    func redisBenchmark(clients: Int, requests: Int, pipeline: Int = 1, command: [String]) throws -> Double {
        var arguments = cliTarget + ["-c", String(clients), "-n", String(requests), "-P", String(pipeline), "--csv"]
        if command == ["PING"] { arguments += ["-t", "ping_mbulk"] } else { arguments += command }
        let output = try Self.run("/usr/bin/redis-benchmark", arguments)
        guard let line = output.split(separator: "\n").last,
              let rps = Double(line.split(separator: ",")[1].replacingOccurrences(of: "\"", with: "")) else {
            throw BenchmarkError("could not read redis-benchmark output: \(output)")
        }
        return rps
    }

    func stop() {
        ChildProcess.terminate(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a program to its end and returns its standard output, trimmed.
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchmarkError("pipe failed: errno \(errno)") }
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: devNull, stdout: fds[1], stderr: devNull)
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += chunk[0..<count]
        }
        close(fds[0])
        _ = ChildProcess.waitForExit(pid, timeout: nil)
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
