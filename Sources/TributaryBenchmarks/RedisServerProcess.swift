import Foundation
import Tributary

/// A private redis-server for one benchmark run, on a free TCP port in a temp directory.
final class RedisServerProcess {
    let port: Int
    let directory: URL
    private let pid: pid_t

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Int.random(in: 20_000...40_000)
        let arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull) }
        pid = try ChildProcess.spawn("/usr/bin/redis-server", arguments: arguments, stdin: devNull, stdout: devNull, stderr: devNull)
        for _ in 0..<200 {
            if (try? Self.run("/usr/bin/redis-cli", ["-p", String(port), "PING"])) == "PONG" { return }
            usleep(20_000)
        }
        throw BenchmarkError("redis-server did not start on port \(port); see \(directory.path)/redis.log")
    }

    /// Runs redis-benchmark against this server and returns requests per second from its CSV output.
    func redisBenchmark(clients: Int, requests: Int, pipeline: Int = 1, command: [String]) throws -> Double {
        var arguments = ["-p", String(port), "-c", String(clients), "-n", String(requests), "-P", String(pipeline), "--csv"]
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

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
