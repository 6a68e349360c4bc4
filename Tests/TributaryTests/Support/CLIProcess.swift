import Foundation
@testable import Tributary

/// What a `tributary` run printed and how it ended.
struct CLIResult: CustomStringConvertible {
    var arguments: [String]
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String {
        "`tributary \(arguments.joined(separator: " "))` exited \(status); stdout: \(stdout.debugDescription); stderr: \(stderr.debugDescription)"
    }

    /// stdout parsed as JSON.
    func json() throws -> JSONValue { try JSONValue.parse(stdout) }
}

/// Runs the `tributary` executable (built beside the test bundle) as a child process, in a directory of the test's
/// choosing, without REDIS_URL in its environment. Waiting never blocks a thread.
enum CLIProcess {
    static var path: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tributary").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/tributary").path
    }

    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ChildProcess.currentEnvironment
        environment.removeValue(forKey: "REDIS_URL")
        return environment.merging(extra) { $1 }
    }

    /// Starts `tributary arguments` in `directory` with stdout and stderr going to `logFile`.
    static func spawn(_ arguments: [String], in directory: String, logFile: String,
                      environment extra: [String: String] = [:]) throws -> pid_t {
        let log = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(log); close(input) }
        return try ChildProcess.spawn(path, arguments: arguments, stdin: input, stdout: log, stderr: log,
                                      workingDirectory: directory, environment: environment(extra))
    }

    /// Runs `tributary arguments` in `directory` to its end (killed after `timeout`), with stdin read from
    /// `stdinFile` (default /dev/null). `executable` replaces the built `tributary` (an installed copy).
    static func run(_ arguments: [String], in directory: String, environment extra: [String: String] = [:],
                    stdinFile: String = "/dev/null", timeout: Duration = .seconds(60),
                    executable: String? = nil) async throws -> CLIResult {
        let outputs = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: outputs) }
        let stdout = open(outputs + "/stdout", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        let stderr = open(outputs + "/stderr", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        let input = open(stdinFile, O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            defer { close(stdout); close(stderr); close(input) }
            pid = try ChildProcess.spawn(executable ?? path, arguments: arguments, stdin: input, stdout: stdout,
                                         stderr: stderr, workingDirectory: directory, environment: environment(extra))
        }
        let status = await waitForExit(pid, timeout: timeout) ?? {
            kill(pid, SIGKILL)
            return ChildProcess.waitForExit(pid, timeout: nil) ?? -1
        }()
        return CLIResult(arguments: arguments, status: status,
                         stdout: (try? String(contentsOfFile: outputs + "/stdout", encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: outputs + "/stderr", encoding: .utf8)) ?? "")
    }

    /// Polls for the child's exit with sleeps between checks; `nil` after `timeout`.
    static func waitForExit(_ pid: pid_t, timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = ChildProcess.waitForExit(pid, timeout: .zero) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return ChildProcess.waitForExit(pid, timeout: .zero)
    }
}

/// Runs `body` in a fresh short directory under /tmp; afterwards stops any embedded Redis started there
/// (`server stop`, then SIGKILL to the pid file's process if it is still alive) and deletes the directory.
func withCLIDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = try makeScratchDirectory()
    func cleanUp() async {
        _ = try? await CLIProcess.run(["server", "stop"], in: directory, timeout: .seconds(30))
        if let text = try? String(contentsOfFile: directory + "/.tributary/redis.pid", encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), processIsAlive(pid) {
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
    do {
        try await body(directory)
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
}
