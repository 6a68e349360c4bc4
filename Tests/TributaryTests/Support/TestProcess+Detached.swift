import Foundation

extension TestProcess {
    /// Runs ``TestProcess/run(_:_:timeout:)`` on a new thread and resumes the caller when the process is done, so
    /// a long child never blocks one of the few cooperative-pool threads.
    static func runDetached(_ executable: String, _ arguments: [String],
                            timeout: Duration = .seconds(60)) async throws -> TestProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try TestProcess.run(executable, arguments, timeout: timeout) })
            }
            thread.name = "test-process"
            thread.start()
        }
    }

    /// The path of an executable target built beside the test bundle (`.build/debug/<name>`).
    static func builtProduct(_ name: String) -> String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)").path
    }
}
