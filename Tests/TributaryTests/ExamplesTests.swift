import Testing
@testable import Tributary

/// The programs in Examples/ run against a real server and print what their comments promise.
@Suite("Examples")
struct ExamplesTests {
    @Test("TypedWorker: two typed jobs complete, the malformed one fails naming its field, the worker carries on")
    func typedWorker() async throws {
        try await withRedisServer { server in
            let result = try await TestProcess.runDetached(TestProcess.builtProduct("TypedWorker"), [server.tcpURL])
            #expect(result.succeeded, "\(result)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[0].hasSuffix("completed: https://example.com/a-320.png"))
            #expect(lines[1].hasSuffix("completed: https://example.com/b-64.png"))
            #expect(lines[2].contains("failed") && lines[2].contains("width"))
        }
    }

    @Test("FlowInCode: the DAG built in Swift completes and every node shows its result")
    func flowInCode() async throws {
        try await withRedisServer { server in
            let result = try await TestProcess.runDetached(TestProcess.builtProduct("FlowInCode"), [server.tcpURL])
            #expect(result.succeeded, "\(result)")
            #expect(result.stdout.contains("  merge [completed] needs extract-us, extract-eu -> {\"rows\":200,\"regions\":2}"))
            #expect(result.stdout.contains("  publish [completed] needs merge -> {\"published\":{\"rows\":200,\"regions\":2}}"))
            #expect(result.stdout.hasSuffix("status: completed\n"))
        }
    }
}

extension ExamplesTests {
    @Test("StepFanOut: the crawl adds its pages as children, waits for them, and completes with their totals")
    func stepFanOut() async throws {
        try await withRedisServer { server in
            let result = try await TestProcess.runDetached(TestProcess.builtProduct("StepFanOut"), [server.tcpURL, "6"])
            #expect(result.succeeded, "\(result)")
            #expect(result.stdout.hasSuffix(": {\"pages\":6,\"bytes\":21000}\n"), "\(result.stdout)")
        }
    }
}
