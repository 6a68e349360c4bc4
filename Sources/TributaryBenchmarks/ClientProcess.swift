import Foundation
import Tributary

/// One benchmark client (the Tributary or the Python side of a scenario) running as a child process and speaking
/// a line protocol on its stdin/stdout:
///
/// - it prints `READY`, `BEGIN <phase>`, `END <phase> <json>` or `RESULT <json>` and then waits for a `go` line;
/// - the runner samples CPU and Redis counters at `BEGIN` and `END` before answering.
///
/// Its stderr goes to a log file, shown when it fails.
final class ClientProcess {
    enum Message {
        case ready
        case begin(String)
        case end(String, [String: Double])
        case result([String: Double])
    }

    let pid: pid_t
    let label: String
    private let input: Int32
    private let output: Int32
    private let logPath: String
    private var buffer: [UInt8] = []
    private var exited = false

    init(_ executable: String, arguments: [String], label: String, logPath: String) throws {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw BenchmarkError("pipe failed: errno \(errno)") }
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(log) }
        pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: toChild[0], stdout: fromChild[1], stderr: log,
                                     newProcessGroup: true)
        close(toChild[0])
        close(fromChild[1])
        input = toChild[1]
        output = fromChild[0]
        self.label = label
        self.logPath = logPath
    }

    deinit {
        if !exited { ChildProcess.terminate(pid, grace: .seconds(2)) }
        close(input)
        close(output)
    }

    /// The next message, or nil at the end of the client's output (it exited; a non-zero status throws).
    func next(timeout: Duration) throws -> Message? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if let message = try parse(line) { return message }
                continue
            }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(timeout.components.seconds * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw failure("sent nothing for \(timeout)") }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                let status = ChildProcess.waitForExit(pid, timeout: .seconds(30)) ?? -1
                exited = true
                guard status == 0 else { throw failure("exited with status \(status)") }
                return nil
            }
            buffer += chunk[0..<count]
        }
    }

    /// Answers the last message: the client goes on.
    func proceed() {
        let line = Array("go\n".utf8)
        _ = line.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
    }

    /// Reads messages until the client exits, answering each; returns them.
    func drain(timeout: Duration) throws -> [Message] {
        var messages: [Message] = []
        while let message = try next(timeout: timeout) {
            messages.append(message)
            proceed()
        }
        return messages
    }

    private func parse(_ line: String) throws -> Message? {
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        switch parts.first {
        case "READY": return .ready
        case "BEGIN" where parts.count >= 2: return .begin(parts[1])
        case "END" where parts.count == 3: return .end(parts[1], try numbers(parts[2]))
        case "RESULT" where parts.count >= 2: return .result(try numbers(parts.dropFirst().joined(separator: " ")))
        default:
            FileHandle.standardError.write(Data("[\(label)] \(line)\n".utf8))
            return nil
        }
    }

    private func numbers(_ text: String) throws -> [String: Double] {
        guard case .object(let object) = try JSONValue.parse(text) else { throw failure("sent a non-object: \(text)") }
        var numbers: [String: Double] = [:]
        for (key, value) in object { if let number = value.doubleValue { numbers[key] = number } }
        return numbers
    }

    private func failure(_ what: String) -> BenchmarkError {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return BenchmarkError("\(label) \(what); its stderr (\(logPath)) ends with:\n\(log.suffix(3000))")
    }
}
