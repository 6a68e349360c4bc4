import Foundation
import Synchronization
import Testing
@testable import Tributary

/// A real worker process (Examples/EchoWorker), killed or stopped with signals.
@Suite("Worker processes")
struct WorkerProcessTests {
    /// The EchoWorker binary, built beside the test bundle.
    static var echoWorkerPath: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("EchoWorker").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/EchoWorker").path
    }

    /// Starts Examples/EchoWorker on `queue` with short lock and stalled intervals, logging beside the server.
    static func startEchoWorker(_ server: TestRedisServer, queue: String, concurrency: Int = 1) throws -> pid_t {
        let log = open(server.directory + "/echo-worker.log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let input = open("/dev/null", O_RDONLY)
        defer { close(log); close(input) }
        return try ChildProcess.spawn(
            Self.echoWorkerPath, arguments: [server.unixURL, queue, "--lock-ms", "1000", "--stalled-ms", "500",
                                             "--concurrency", String(concurrency)],
            stdin: input, stdout: log, stderr: log)
    }

    @Test("a worker process killed with SIGKILL mid-job: the job stalls, another worker runs it, it completes once")
    func sigkillMidJob() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.unixURL)
            configuration.disconnectedBehavior = .waitForReconnect
            let client = try await RedisClient.connect(configuration)
            let queue = try Queue("crashy", client: client)
            let pid = try Self.startEchoWorker(server, queue: "crashy")
            let job = try await queue.add("long", data: ["sleepMs": 60_000])
            #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .active })
            #expect(try await queue.getJob(job.id)?.processedBy == "echo-\(pid)")
            kill(pid, SIGKILL)
            #expect(ChildProcess.waitForExit(pid, timeout: .seconds(10)) == 128 + SIGKILL)

            let runs = Mutex(0)
            let survivor = try Worker(queue: "crashy", client: client, options: .init(stalledInterval: .milliseconds(500))) { job in
                runs.withLock { $0 += 1 }
                return ["by": "survivor", "started": .int(Int64(job.attemptsStarted))]
            }
            let runner = Task { try await survivor.run() }
            #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .completed })
            await survivor.close()
            try await runner.value
            let done = try #require(try await queue.getJob(job.id))
            #expect(done.returnValue == ["by": "survivor", "started": 2])
            #expect(done.attemptsMade == 1 && done.fields["stc"] == "1")
            #expect(runs.withLock { $0 } == 1)
            let events = try await client.send(RedisCommand("XRANGE", "bull:crashy:events", "-", "+")).array ?? []
            #expect(events.contains { $0.array?[1].array?[1].string == "stalled" })
            await client.close()
        }
    }

    @Test("SIGTERM stops a worker process gracefully: the running job completes, the process exits 0")
    func sigtermIsGraceful() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let queue = try Queue("polite", client: client)
            let pid = try Self.startEchoWorker(server, queue: "polite")
            let job = try await queue.add("short", data: ["sleepMs": 3000])
            #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .active })
            kill(pid, SIGTERM)
            #expect(ChildProcess.waitForExit(pid, timeout: .seconds(20)) == 0)
            #expect(try await queue.getState(job.id) == .completed)
            #expect(try await queue.getJob(job.id)?.returnValue?["pid"] == .int(Int64(pid)))
            await client.close()
        }
    }
}
