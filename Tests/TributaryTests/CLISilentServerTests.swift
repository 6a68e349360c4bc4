import Foundation
import Testing
@testable import Tributary

/// The CLI against a server that accepts connections and never answers.
@Suite("CLI against a silent server")
struct CLISilentServerTests {
    @Test("stats, worker and run --wait against a silent server exit 3 naming the endpoint")
    func cliAgainstSilentServer() async throws {
        let silent = try SilentServer()
        defer { silent.stop() }
        try await withCLIDirectory { directory in
            let flow = directory + "/one.json"
            try #"{"flow": "one", "queue": "q", "nodes": {"a": {"run": ["true"]}}}"#.write(toFile: flow, atomically: true, encoding: .utf8)
            async let stats = CLIProcess.run(["stats", "--redis", silent.url], in: directory, timeout: .seconds(120))
            async let worker = CLIProcess.run(["worker", "-q", "q", "--redis", silent.url, "--connect-timeout", "2s"],
                                              in: directory, timeout: .seconds(120))
            async let run = CLIProcess.run(["run", flow, "--wait", "--redis", silent.url + "?connect_timeout=2s"],
                                           in: directory, timeout: .seconds(120))
            for result in try await [stats, worker, run] {
                #expect(result.status == 3, "\(result)")
                #expect(result.stderr.contains("127.0.0.1:\(silent.port)"), "\(result)")
                #expect(result.stderr.contains("did not answer"), "\(result)")
            }
        }
    }
}
