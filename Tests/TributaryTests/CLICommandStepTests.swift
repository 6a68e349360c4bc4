import Foundation
import Testing
@testable import Tributary

/// Adds a job and marks it a command step (the `command` field a flow run writes), before any worker runs.
func addCommandJob(_ queue: Queue, _ client: RedisClient, name: String = "step", data: JSONValue = [:],
                   command: [String], options: JobOptions = .init()) async throws -> Job {
    let job = try await queue.add(name, data: data, options: options)
    let field = JSONValue.array(command.map { .string($0) }).serialized()
    try await client.send(RedisCommand("HSET", .string(job.key), "command", .string(field)))
    return job
}

/// Runs a worker on `queue` with command steps on (when `commandStep` is given) while `body` runs.
func withCommandWorker(_ queue: Queue, _ client: RedisClient, commandStep: CommandStep?,
                       _ body: () async throws -> Void) async throws {
    let router = JobRouter()
    if let commandStep { router.runCommandSteps(commandStep) }
    let worker = try Worker(queue: queue.name, client: client, router: router)
    let runner = Task { try await worker.run() }
    do {
        try await body()
    } catch {
        await worker.close(timeout: .seconds(5))
        throw error
    }
    await worker.close(timeout: .seconds(5))
    try await runner.value
}

/// A fresh directory under /tmp for files the commands write.
func makeScratchDirectory() throws -> String {
    let path = "/tmp/tributary-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Whether a process exists (zombies count as gone).
func processIsAlive(_ pid: pid_t) -> Bool {
    if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
    return kill(pid, 0) == 0
}

@Suite("Command steps")
struct CLICommandStepTests {
    @Test("stdin carries data and inputs as JSON; JSON on stdout becomes the result")
    func jsonStdout() async throws {
        try await withQueue("steps") { queue, client, _ in
            let echo = try await addCommandJob(queue, client, data: ["n": 41, "text": "héllo"], command: ["sh", "-c", "cat"])
            let json = try await addCommandJob(queue, client, command: ["sh", "-c", #"cat >/dev/null; echo '{"sum": [1, 2.5]}'"#])
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await eventually { try await queue.getState(json.id) == .completed })
                #expect(try await eventually { try await queue.getState(echo.id) == .completed })
            }
            #expect(try await queue.getJob(echo.id)?.returnValue == ["data": ["n": 41, "text": "héllo"], "inputs": [:]])
            #expect(try await queue.getJob(json.id)?.returnValue == ["sum": [1, 2.5]])
        }
    }

    @Test("a flow node's inputs (and ignored failures) reach stdin; run() works outside a worker too")
    func inputsOnStdin() async throws {
        try await withQueue("steps") { queue, client, _ in
            let added = try await addCommandJob(queue, client, data: ["k": "v"], command: ["cat"])
            var job = try #require(try await queue.getJob(added.id))
            job.inputs = ["extract": ["rows": 3], "a": "first"]
            job.inputFailures = ["optional": "timed out"]
            let result = try await CommandStep().run(job)
            #expect(result == [
                "data": ["k": "v"], "inputs": ["a": "first", "extract": ["rows": 3]],
                "inputFailures": ["optional": "timed out"],
            ])
            #expect(try await CommandStep().run(job, inputs: [:]) == [
                "data": ["k": "v"], "inputs": [:], "inputFailures": ["optional": "timed out"],
            ])
        }
    }

    @Test("text on stdout becomes a JSON string without its trailing newline; the job's environment is set")
    func textStdout() async throws {
        try await withQueue("steps") { queue, client, _ in
            let text = try await addCommandJob(queue, client, command: ["printf", "hello world\\n\\n"])
            let env = try await addCommandJob(
                queue, client, name: "envy", command: ["sh", "-c", "echo $TRIBUTARY_QUEUE/$TRIBUTARY_JOB_NAME/$TRIBUTARY_ATTEMPT"])
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await eventually { try await queue.getState(text.id) == .completed })
                #expect(try await eventually { try await queue.getState(env.id) == .completed })
            }
            #expect(try await queue.getJob(text.id)?.returnValue == "hello world\n")
            #expect(try await queue.getJob(env.id)?.returnValue == "steps/envy/1")
            #expect(CommandStep.result(fromStdout: Array("42\n".utf8)) == 42)
            #expect(CommandStep.result(fromStdout: Array("not json\r\n".utf8)) == "not json")
            #expect(CommandStep.result(fromStdout: []) == "")
        }
    }

    @Test("a non-zero exit fails the attempt, retries run, and the stderr tail is in the log and the failure reason")
    func nonZeroExit() async throws {
        try await withQueue("steps") { queue, client, _ in
            let script = "for i in $(seq 1 30); do echo \"noise $i\" >&2; done; echo 'boom: disk full' >&2; exit 3"
            let job = try await addCommandJob(queue, client, command: ["sh", "-c", script], options: .init(attempts: 2))
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.attemptsMade == 2)
            let reason = try #require(failed.failedReason)
            #expect(reason.hasPrefix("command `sh -c"))
            #expect(reason.contains("exited with status 3"))
            #expect(reason.hasSuffix("boom: disk full"))
            #expect(reason.contains("noise 30") && !reason.contains("noise 10\n"))  // the tail: last 20 lines
            let logs = try await queue.getJobLogs(job.id).logs
            #expect(logs.filter { $0 == "boom: disk full" }.count == 2)  // once per attempt
            #expect(logs.contains { $0.hasPrefix("attempt 1: command") && $0.contains("status 3") })
            #expect(logs.contains { $0.hasPrefix("attempt 2: command") })
            #expect(!logs.contains("noise 1"))
        }
    }

    @Test("a command past the job's timeout is killed with its whole process group, and the attempt fails")
    func jobTimeoutKills() async throws {
        try await withQueue("steps") { queue, client, _ in
            let scratch = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let script = "echo $$ > \(scratch)/leader; sleep 60 & echo $! > \(scratch)/child; wait"
            let job = try await addCommandJob(queue, client, command: ["sh", "-c", script],
                                              options: .init(timeout: .seconds(1)))
            try await withCommandWorker(queue, client, commandStep: CommandStep(options: .init(killGrace: .seconds(2)))) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .failed })
            }
            #expect(try await queue.getJob(job.id)?.failedReason?.contains("timed out") == true)
            let leader = try #require(pid_t(try String(contentsOfFile: scratch + "/leader", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            let child = try #require(pid_t(try String(contentsOfFile: scratch + "/child", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(try await eventually(.seconds(60)) { !processIsAlive(leader) && !processIsAlive(child) })
        }
    }

    @Test("without a job timeout, the runner's own timeout kills the command and fails the attempt")
    func runnerTimeoutKills() async throws {
        try await withQueue("steps") { queue, client, _ in
            let scratch = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let job = try await addCommandJob(queue, client, command: ["sh", "-c", "echo $$ > \(scratch)/pid; echo started >&2; exec sleep 60"])
            let step = CommandStep(options: .init(timeout: .milliseconds(800), killGrace: .seconds(1)))
            try await withCommandWorker(queue, client, commandStep: step) { () async throws in
                #expect(try await eventually(.seconds(60)) { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.failedReason?.contains("timed out after 0.8 seconds and was killed") == true)
            #expect(try await queue.getJobLogs(job.id).logs.contains("started"))
            let pid = try #require(pid_t(try String(contentsOfFile: scratch + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(!processIsAlive(pid))
        }
    }

    @Test("command steps are off by default: the job fails at once and the command never runs")
    func disabledByDefault() async throws {
        try await withQueue("steps") { queue, client, _ in
            let scratch = try makeScratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let marker = scratch + "/marker"
            let job = try await addCommandJob(queue, client, command: ["touch", marker], options: .init(attempts: 3))
            try await withCommandWorker(queue, client, commandStep: nil) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.failedReason?.hasPrefix("job \(job.id) is a command step; start the worker with --allow-commands") == true)
            #expect(failed.attemptsMade == 1)  // unrecoverable: no retries
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test("a missing program and an invalid command field fail with reasons that say so")
    func badCommands() async throws {
        try await withQueue("steps") { queue, client, _ in
            let missing = try await addCommandJob(queue, client, command: ["no-such-program-tributary"])
            let invalid = try await queue.add("broken")
            try await client.send(RedisCommand("HSET", .string(invalid.key), "command", #"["ok", 3]"#))
            try await withCommandWorker(queue, client, commandStep: CommandStep()) { () async throws in
                #expect(try await eventually { try await queue.getState(missing.id) == .failed })
                #expect(try await eventually { try await queue.getState(invalid.id) == .failed })
            }
            #expect(try await queue.getJob(missing.id)?.failedReason?.contains("'no-such-program-tributary' was not found") == true)
            #expect(try await queue.getJob(invalid.id)?.failedReason?.contains("invalid command field") == true)
        }
    }
}
