import Foundation
import Testing
@testable import Tributary

/// `tributary worker` as a process: command steps, logging, graceful shutdown.
@Suite("CLI worker")
struct CLIWorkerTests {
    private func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test("SIGTERM: the running command step finishes, the job completes, the worker exits 0")
    func gracefulShutdown() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("graceful") { queue, client, server in
                // Added before the worker starts: addCommandJob sets the command field after the add.
                let job = try await addCommandJob(queue, client, data: ["n": 1],
                                                  command: ["sh", "-c", "sleep 3; echo '{\"slept\": true}'"])
                let logFile = directory + "/worker.log"
                let pid = try CLIProcess.spawn(
                    ["worker", "--queue", "graceful", "--allow-commands", "--redis", server.unixURL], in: directory, logFile: logFile)
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .active })
                kill(pid, SIGTERM)
                let status = await CLIProcess.waitForExit(pid, timeout: .seconds(30))
                if status == nil { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
                #expect(status == 0, "\(log(logFile))")
                #expect(try await queue.getState(job.id) == .completed)
                #expect(try await queue.getJob(job.id)?.returnValue == ["slept": true])
                let output = log(logFile)
                #expect(output.contains("command steps are enabled"))
                #expect(output.contains("job started") && output.contains("job=\(job.id)") && output.contains("queue=graceful"))
                // The job finished after the shutdown was requested, not before.
                let requested = try #require(output.range(of: "graceful shutdown requested"))
                let completed = try #require(output.range(of: "job completed"))
                #expect(requested.lowerBound < completed.lowerBound)
            }
        }
    }

    @Test("without --allow-commands a command step fails with a clear reason and never runs; other names have no handler")
    func commandsOffByDefault() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("careful") { queue, client, server in
                let marker = directory + "/marker"
                let step = try await addCommandJob(queue, client, command: ["touch", marker], options: .init(attempts: 3))
                let plain = try await queue.add("transcode")
                let logFile = directory + "/worker.log"
                let pid = try CLIProcess.spawn(["worker", "-q", "careful", "--redis", server.unixURL], in: directory, logFile: logFile)
                #expect(try await eventually(.seconds(60)) { try await queue.getState(step.id) == .failed })
                #expect(try await eventually(.seconds(60)) { try await queue.getState(plain.id) == .failed })
                kill(pid, SIGINT)
                #expect(await CLIProcess.waitForExit(pid, timeout: .seconds(30)) == 0, "\(log(logFile))")
                let failed = try #require(try await queue.getJob(step.id))
                #expect(failed.failedReason?.hasPrefix("job \(step.id) is a command step; start the worker with --allow-commands") == true)
                #expect(failed.attemptsMade == 1)
                #expect(!FileManager.default.fileExists(atPath: marker))
                #expect(try await queue.getJob(plain.id)?.failedReason == "no handler for job name 'transcode' (job \(plain.id))")
            }
        }
    }

    @Test("worker without --queue is a usage error (exit 2)")
    func usage() async throws {
        try await withCLIDirectory { directory in
            let result = try await CLIProcess.run(["worker", "--redis", "redis://127.0.0.1:1"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--queue"))
        }
    }
}
