import Foundation
import Testing
@testable import Tributary

/// `tributary worker` killed with SIGKILL: its command steps die with it, and its jobs come back as fast as the
/// crash-recovery options say.
@Suite("CLI worker crash recovery")
struct CLIWorkerRecoveryTests {
    private static func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The pid written to `path` by a command, once the file is complete.
    private static func pid(in path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// SIGKILLs and reaps `pid` if it still runs (a test that failed halfway).
    private static func reap(_ pid: pid_t) {
        guard processIsAlive(pid) else { return }
        kill(pid, SIGKILL)
        _ = ChildProcess.waitForExit(pid, timeout: nil)
    }

    private static func stop(_ pid: pid_t) async {
        kill(pid, SIGTERM)
        if await CLIProcess.waitForExit(pid, timeout: .seconds(30)) == nil {
            kill(pid, SIGKILL)
            _ = ChildProcess.waitForExit(pid, timeout: nil)
        }
    }

    @Test("kill -9 of a worker kills its running command step, grandchildren included")
    func commandDiesWithWorker() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("orphans") { queue, client, server in
                let shellPidFile = directory + "/shell.pid"
                let sleepPidFile = directory + "/sleep.pid"
                // The shell runs `sleep` as its own child: a grandchild of the worker.
                let script = #"echo $$ > "$1"; sleep 300 & echo $! > "$2"; wait"#
                let job = try await addCommandJob(queue, client, command: ["sh", "-c", script, "sh", shellPidFile, sleepPidFile])
                let logFile = directory + "/worker.log"
                let worker = try CLIProcess.spawn(
                    ["worker", "-q", "orphans", "--allow-commands", "--redis", server.unixURL], in: directory, logFile: logFile)
                let started = try await eventually(.seconds(60)) {
                    Self.pid(in: shellPidFile) != nil && Self.pid(in: sleepPidFile) != nil
                }
                #expect(started, "\(Self.log(logFile))")
                #expect(try await queue.getState(job.id) == .active)
                let shell = Self.pid(in: shellPidFile) ?? -1
                let sleeper = Self.pid(in: sleepPidFile) ?? -1

                kill(worker, SIGKILL)
                _ = await CLIProcess.waitForExit(worker, timeout: .seconds(30))
                guard started else { return }
                let gone = try await eventually(.seconds(60)) { !processIsAlive(shell) && !processIsAlive(sleeper) }
                if !gone {
                    kill(shell, SIGKILL)
                    kill(sleeper, SIGKILL)
                }
                #expect(gone, "the command step (sh \(shell), sleep \(sleeper)) outlived its killed worker")
            }
        }
    }

    @Test("--lock-duration 5s: a killed worker's job is run again by another worker well before the 30 s default")
    func lockDurationOption() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("recover") { queue, client, server in
                let runs = directory + "/runs"
                // The first run hangs; the second (after the first worker was killed) answers at once.
                let script = #"echo x >> "$1"; if [ "$(wc -l < "$1")" -gt 1 ]; then echo '{"again": true}'; else sleep 120; fi"#
                let job = try await addCommandJob(queue, client, command: ["sh", "-c", script, "sh", runs])
                let tuning = ["--lock-duration", "5s", "--stalled-interval", "1s", "--max-stalled-count", "2"]
                let firstLog = directory + "/first.log"
                let first = try CLIProcess.spawn(
                    ["worker", "-q", "recover", "--allow-commands", "--redis", server.unixURL] + tuning,
                    in: directory, logFile: firstLog)
                defer { Self.reap(first) }
                #expect(try await eventually(.seconds(60)) { FileManager.default.fileExists(atPath: runs) }, "\(Self.log(firstLog))")
                #expect(try await queue.getState(job.id) == .active)

                let secondLog = directory + "/second.log"
                let second = try CLIProcess.spawn(
                    ["worker", "-q", "recover", "--allow-commands", "--redis", server.unixURL] + tuning,
                    in: directory, logFile: secondLog)
                defer { Self.reap(second) }
                #expect(try await eventually(.seconds(60)) { Self.log(secondLog).contains("worker started") }, "\(Self.log(secondLog))")

                // The lock the first worker holds was taken with the option, not with the 30 s default.
                let lockTTL = try #require(try await client.send(RedisCommand("PTTL", .string(job.key + ":lock"))).int)
                #expect(lockTTL > 0 && lockTTL <= 5000, "lock TTL \(lockTTL) ms")

                kill(first, SIGKILL)
                _ = await CLIProcess.waitForExit(first, timeout: .seconds(30))
                let time = try #require(try await client.send(RedisCommand("TIME")).array?.compactMap(\.string))
                let killedAt = Int64(time[0])! * 1000 + Int64(time[1])! / 1000

                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .completed },
                        "\(Self.log(secondLog))")
                let finished = try #require(try await queue.getJob(job.id))
                #expect(finished.returnValue == ["again": true])
                // Timestamps stored by Redis-side scripts, not the test's wall clock: the second run started less
                // than the default lock duration (30 s) after the kill.
                let restartedAt = try #require(finished.processedOn)
                #expect(restartedAt - killedAt < 30_000, "the job came back \(restartedAt - killedAt) ms after the kill")
                #expect((try String(contentsOfFile: runs, encoding: .utf8)).split(separator: "\n").count == 2)
                await Self.stop(second)
            }
        }
    }

    @Test("tuning options are validated: --limit-max without --limit-duration, a bad duration")
    func tuningValidation() async throws {
        try await withCLIDirectory { directory in
            let unpaired = try await CLIProcess.run(
                ["worker", "-q", "x", "--limit-max", "5", "--redis", "redis://127.0.0.1:1"], in: directory)
            #expect(unpaired.status == 2, "\(unpaired)")
            #expect(unpaired.stderr.contains("--limit-max and --limit-duration go together"), "\(unpaired)")
            let bad = try await CLIProcess.run(
                ["worker", "-q", "x", "--lock-duration", "soon", "--redis", "redis://127.0.0.1:1"], in: directory)
            #expect(bad.status == 2, "\(bad)")
            #expect(bad.stderr.contains("--lock-duration"), "\(bad)")
            let runBad = try await CLIProcess.run(
                ["run", "nosuch.json", "--work", "--stalled-interval", "0s", "--redis", "redis://127.0.0.1:1"], in: directory)
            #expect(runBad.status == 2, "\(runBad)")
            #expect(runBad.stderr.contains("--stalled-interval must be at least 100ms"), "\(runBad)")
        }
    }
}
