import ArgumentParser
import Tributary

/// `tributary queue pause|resume|drain|clean|obliterate|limit Q`.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Pause, resume, drain, clean or obliterate a queue; set its global limits.",
        discussion: """
            Every operation stores what BullMQ stores, so Node and Python BullMQ clients see the same queue.

            Examples:
              tributary queue pause emails
              tributary queue resume emails
              tributary queue drain emails --delayed
              tributary queue clean emails --grace 1h --type failed --limit 1000
              tributary queue obliterate emails --force
              tributary queue limit emails --concurrency 3 --rate 100/1m
            """,
        subcommands: [Pause.self, Resume.self, Drain.self, Clean.self, Obliterate.self, Limit.self]
    )

    struct Target: ParsableArguments {
        @Argument(help: "The queue.")
        var queue: String
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause the queue for every worker (running jobs finish; new jobs wait).",
            discussion: """
                Examples:
                  tributary queue pause emails
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            try await connection.withClient { client in
                try await connection.queue(target.queue, client: client).pause()
                print("paused queue '\(target.queue)'")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a paused queue.",
            discussion: """
                Examples:
                  tributary queue resume emails
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        func run() async throws {
            try await connection.withClient { client in
                try await connection.queue(target.queue, client: client).resume()
                print("resumed queue '\(target.queue)'")
            }
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every job waiting to run (and, with --delayed, the delayed ones).",
            discussion: """
                Active, completed, failed and waiting-children jobs stay.

                Examples:
                  tributary queue drain emails
                  tributary queue drain emails --delayed --json
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target
        @OptionGroup var output: JSONOutputOption

        @Flag(help: "Also delete delayed jobs.")
        var delayed = false

        func run() async throws {
            try await connection.withClient { client in
                let count = try await connection.queue(target.queue, client: client).drain(delayed: delayed)
                if output.json {
                    print(JSONValue.object(["queue": .string(target.queue), "removed": .int(Int64(count))]).serialized())
                } else {
                    print("drained queue '\(target.queue)': \(count) job(s) deleted")
                }
            }
        }
    }

    /// The job states `clean` takes, with BullMQ's names.
    enum CleanType: String, ExpressibleByArgument, CaseIterable {
        case completed, failed, delayed, wait, waiting, paused, prioritized, active

        var state: JobState {
            switch self {
            case .completed: return .completed
            case .failed: return .failed
            case .delayed: return .delayed
            case .wait, .waiting, .paused: return .waiting
            case .prioritized: return .prioritized
            case .active: return .active
            }
        }
    }

    struct Clean: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete jobs of one state older than a grace period, oldest first (BullMQ's clean).",
            discussion: """
                Age is measured as BullMQ measures it (finishedOn for completed and failed jobs, else processedOn \
                or timestamp). Active jobs whose lock is held are never deleted. wait, waiting and paused all mean \
                the jobs waiting to run.

                Examples:
                  tributary queue clean emails
                  tributary queue clean emails --grace 1h --type failed
                  tributary queue clean emails --grace 0 --type completed --limit 500 --json
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target
        @OptionGroup var output: JSONOutputOption

        @Option(help: "Keep jobs younger than this (e.g. 0, 30s, 1h, 7d; a bare number is seconds).")
        var grace = DurationArgument(.zero, text: "0")

        @Option(help: "The most jobs to delete; 0 for no limit.")
        var limit = 0

        @Option(help: "The state to clean: \(CleanType.allCases.map(\.rawValue).joined(separator: ", ")).")
        var type = CleanType.completed

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
        }

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                let ids = try await queue.clean(grace: grace.duration, limit: limit, state: type.state)
                if output.json {
                    print(JSONValue.object([
                        "queue": .string(target.queue), "type": .string(type.rawValue), "removed": .array(ids.map { .string($0) }),
                    ]).serialized())
                } else {
                    print("cleaned queue '\(target.queue)': \(ids.count) \(type.rawValue) job(s) deleted")
                }
            }
        }
    }

    struct Obliterate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the queue entirely: every job, log, event and setting.",
            discussion: """
                Refuses (exit 1) while jobs are active unless --force is given; their workers then fail to \
                finish them. Keys of other queues are untouched.

                Examples:
                  tributary queue obliterate emails
                  tributary queue obliterate emails --force
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target

        @Flag(help: "Delete even while jobs are active.")
        var force = false

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                do {
                    try await queue.obliterate(force: force)
                } catch let error as QueueError where error.code == .activeJobs {
                    let active = try await queue.getJobCounts().active
                    throw CLIError("queue '\(target.queue)' has \(active) active job(s); wait for them to finish or pass --force")
                }
                print("obliterated queue '\(target.queue)'")
            }
        }
    }
}
