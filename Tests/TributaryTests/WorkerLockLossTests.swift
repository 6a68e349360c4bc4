import Foundation
import Testing
@testable import Tributary

/// A worker that loses a job's lock stops that job's attempt: the job may already run again elsewhere.
@Suite("Worker lock loss")
struct WorkerLockLossTests {
    @Test("a command step's process group is killed when its job's lock is lost")
    func commandKilledOnLockLoss() async throws {
        try await withQueue("lockloss") { queue, client, _ in
            let directory = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pidFile = directory + "/sleep.pid"
            // `sleep` is the shell's child: the whole group must go, not only the shell.
            let script = #"sleep 300 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait"#
            let job = try await addCommandJob(queue, client, command: ["sh", "-c", script, "sh", pidFile])
            let router = JobRouter()
            router.runCommandSteps(CommandStep(options: .init(killGrace: .seconds(2))))
            let worker = try Worker(queue: "lockloss", client: client, options: .init(lockDuration: .seconds(2)), router: router)
            let lockLost = Task { () -> Bool in
                for await event in worker.events {
                    if case .lockLost(let id) = event, id == job.id { return true }
                }
                return false
            }
            let runner = Task { try await worker.run() }
            func sleeperPID() -> pid_t? {
                (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            #expect(try await eventually(.seconds(60)) { sleeperPID() != nil })
            let sleeper = try #require(sleeperPID())
            #expect(processIsAlive(sleeper))

            // As if the lock had expired and another worker had taken the job: the next renewal finds it gone.
            #expect(try await client.send(RedisCommand("DEL", .string(job.key + ":lock"))).int == 1)
            let killed = try await eventually(.seconds(60)) { !processIsAlive(sleeper) }
            if !killed { kill(sleeper, SIGKILL) }
            #expect(killed, "the command step kept running after its job's lock was lost")

            await worker.close(timeout: .seconds(10))
            try await runner.value
            #expect(await lockLost.value)
        }
    }

    @Test("a command step is killed when its lock cannot be renewed before it expires (Redis stopped answering)")
    func commandKilledWhenRenewalsFail() async throws {
        try await withRedisServer { server in
            // The test's own client keeps the default timeouts (a loaded machine can be slow to answer); the
            // worker's gives up on a reply after 5 s, so that its renewals fail while the server is stopped.
            let client = try await RedisClient.connect(try RedisConfiguration(url: server.unixURL))
            var configuration = try RedisConfiguration(url: server.unixURL)
            configuration.disconnectedBehavior = .waitForReconnect
            configuration.connectTimeout = .seconds(5)
            configuration.commandTimeout = .seconds(5)
            configuration.reconnect = .init(minimumDelay: .milliseconds(50), maximumDelay: .milliseconds(500))
            let workerClient = try await RedisClient.connect(configuration)
            let queue = try Queue("unrenewed", client: client)
            let directory = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pidFile = directory + "/sleep.pid"
            let script = #"sleep 300 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait"#
            _ = try await addCommandJob(queue, client, command: ["sh", "-c", script, "sh", pidFile])
            let router = JobRouter()
            router.runCommandSteps(CommandStep(options: .init(killGrace: .seconds(2))))
            let worker = try Worker(queue: "unrenewed", client: workerClient, options: .init(lockDuration: .seconds(6)), router: router)
            let runner = Task { try await worker.run() }
            func sleeperPID() -> pid_t? {
                (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            #expect(try await eventually(.seconds(60)) { sleeperPID() != nil })
            let sleeper = try #require(sleeperPID())

            kill(server.pid, SIGSTOP)
            let killed = try await eventually(.seconds(60)) { !processIsAlive(sleeper) }
            kill(server.pid, SIGCONT)
            if !killed { kill(sleeper, SIGKILL) }
            #expect(killed, "the command step kept running although its lock could not be renewed")
            await worker.close(timeout: .seconds(10))
            try await runner.value
            await workerClient.close()
            await client.close()
        }
    }
}
