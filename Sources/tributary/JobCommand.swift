import ArgumentParser
import Foundation
import Tributary

/// `tributary job show|retry|remove|promote ID --queue Q`, `tributary job add NAME --queue Q`.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Add, show, retry, remove or promote one job.",
        discussion: """
            Examples:
              tributary job add welcome --queue emails --data '{"to": "ada@example.com"}' --dedupe-id welcome-ada
              tributary job show 42 --queue emails
              tributary job show 42 --queue emails --json
              tributary job retry 42 --queue emails --reset-attempts
              tributary job remove 42 --queue emails
              tributary job promote 42 --queue emails

            Exit codes: 0 ok, 1 the job is not in a state that allows it, 4 the job does not exist.
            """,
        subcommands: [Add.self, Show.self, Retry.self, Remove.self, Promote.self]
    )

    /// The job id and its queue.
    struct Target: ParsableArguments {
        @Argument(help: "The job id.")
        var id: String

        @Option(name: [.customShort("q"), .long], help: "The job's queue.")
        var queue: String
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a job: state, timings, attempts, data, result or failure, and its log.",
            discussion: """
                Long data, results and logs are cut (20 lines, 2000 characters; the last 20 log lines) unless \
                --full is given. --json prints everything: the parsed fields, the state, the whole log and every \
                raw field of the job's hash. Encrypted fields (see "encrypt" in docs/production.md) are shown as \
                <encrypted A256GCM kid=K>, and with --json as stored (the envelope); nothing is decrypted.

                Examples:
                  tributary job show 42 --queue emails
                  tributary job show 42 --queue emails --full
                  tributary job show 42 --queue emails --json | jq .returnvalue
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target
        @OptionGroup var output: JSONOutputOption

        @Flag(help: "Show data, results and logs in full.")
        var full = false

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                guard let job = try await queue.getJob(target.id) else {
                    throw CLIError("job \(target.id) does not exist in queue '\(target.queue)' (prefix '\(connection.prefix)')",
                                   status: .notFound)
                }
                let state = try await queue.getState(job.id)
                let logLimit = output.json || full ? -1 : 19
                let (logs, logCount) = try await queue.getJobLogs(job.id, start: 0, end: logLimit, ascending: false)
                if output.json {
                    print(JobRendering.json(job, state: state, logs: logs.reversed(), logCount: logCount).prettyPrinted())
                } else {
                    print(JobRendering.text(job, state: state, logs: logs.reversed(), logCount: logCount, full: full))
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a failed (or, with --completed, a completed) job back to waiting.",
            discussion: """
                Examples:
                  tributary job retry 42 --queue emails
                  tributary job retry 42 --queue emails --reset-attempts
                  tributary job retry 42 --queue emails --completed
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        @Flag(help: "Retry a completed job instead of a failed one.")
        var completed = false

        @Flag(help: "Reset the attempts made, so the job gets all its attempts again.")
        var resetAttempts = false

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                try await queue.retryJob(target.id, state: completed ? .completed : .failed, resetAttemptsMade: resetAttempts,
                                         resetAttemptsStarted: resetAttempts)
                print("job \(target.id) of queue '\(target.queue)' moved back to waiting")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a job (in any state but active), with its log.",
            discussion: """
                Exits 4 when the job does not exist, 1 while a worker is processing it.

                Examples:
                  tributary job remove 42 --queue emails
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                guard try await queue.removeJob(target.id) else {
                    throw CLIError("job \(target.id) does not exist in queue '\(target.queue)'", status: .notFound)
                }
                print("removed job \(target.id) of queue '\(target.queue)'")
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a delayed job ready to run now.",
            discussion: """
                Examples:
                  tributary job promote 42 --queue emails
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                try await queue.promoteJob(target.id)
                print("job \(target.id) of queue '\(target.queue)' promoted to waiting")
            }
        }
    }
}

/// How `job show` prints a job.
enum JobRendering {
    static func json(_ job: Job, state: JobState, logs: [String], logCount: Int) -> JSONValue {
        var object: JSONObject = [
            "id": .string(job.id), "name": .string(job.name), "queue": .string(job.queue.queueName),
            "state": .string(state.rawValue), "data": job.data,
        ]
        object["opts"] = job.fields["opts"].flatMap { try? JSONValue.parse($0) } ?? .object([:])
        object["timestamp"] = .int(job.timestamp)
        object["processedOn"] = job.processedOn.map { .int($0) } ?? .null
        object["finishedOn"] = job.finishedOn.map { .int($0) } ?? .null
        object["attemptsMade"] = .int(Int64(job.attemptsMade))
        object["attemptsStarted"] = .int(Int64(job.attemptsStarted))
        object["progress"] = job.progress ?? .null
        object["returnvalue"] = job.returnValue ?? .null
        object["failedReason"] = job.failedReason.map { .string($0) } ?? .null
        object["stacktrace"] = .array(job.stacktrace.map { .string($0) })
        object["parentKey"] = job.parentKey.map { .string($0) } ?? .null
        object["processedBy"] = job.processedBy.map { .string($0) } ?? .null
        object["command"] = (try? CommandStep.command(of: job)).flatMap { $0.map { .array($0.map { .string($0) }) } } ?? .null
        object["logs"] = .array(logs.map { .string($0) })
        object["logCount"] = .int(Int64(logCount))
        var fields = JSONObject()
        for key in job.fields.keys.sorted() { fields[key] = .string(job.fields[key]!) }
        object["fields"] = .object(fields)
        return .object(object)
    }

    static func text(_ job: Job, state: JobState, logs: [String], logCount: Int, full: Bool) -> String {
        func cut(_ text: String) -> String { full ? text : Output.truncated(text) }
        var lines = ["job \(job.id) (\(job.name)) in queue '\(job.queue.queueName)': \(state.rawValue)"]
        func add(_ label: String, _ value: String) {
            let prefix = "  " + label + ":" + String(repeating: " ", count: max(1, 11 - label.count))
            lines.append(prefix + Output.indented(value, by: prefix.count))
        }
        add("created", Output.timestamp(job.timestamp))
        if let started = job.processedOn { add("started", Output.timestamp(started)) }
        if let finished = job.finishedOn {
            let took = job.processedOn.map { " (took \(Output.duration(milliseconds: finished - $0)))" } ?? ""
            add("finished", Output.timestamp(finished) + took)
        }
        let allowed = job.options.effectiveAttempts
        add("attempts", "\(job.attemptsMade) made, \(job.attemptsStarted) started, \(allowed) allowed")
        if let command = try? CommandStep.command(of: job) { add("command", CommandStep.shellQuoted(command)) }
        if let parent = job.parentKey { add("parent", parent) }
        if let deduplicationId = job.deduplicationId { add("dedupe id", deduplicationId) }
        if let worker = job.processedBy { add("worker", worker) }
        if let progress = job.progress { add("progress", cut(progress.serialized())) }
        // Encrypted fields are drawn as `<encrypted A256GCM kid=k1>`; --json prints them as stored (the envelope).
        add("data", cut(job.data.redactingEncryptedFields().prettyPrinted()))
        if let result = job.returnValue { add("result", cut(result.redactingEncryptedFields().prettyPrinted())) }
        if let reason = job.failedReason, !reason.isEmpty { add("failure", cut(reason)) }
        if let problem = job.problem { add("problem", problem) }
        if logCount > 0 {
            let shown = logs.count < logCount ? "last \(logs.count) of \(logCount)" : "\(logCount)"
            lines.append("  log (\(shown) lines):")
            lines += logs.map { "    " + Output.indented(full ? $0 : Output.truncated($0, maxLines: 5, maxCharacters: 500), by: 4) }
        }
        return lines.joined(separator: "\n")
    }
}
