import ArgumentParser
import Foundation
import Tributary

/// `tributary schedule add|list|show|remove`: BullMQ job schedulers, and flows on a schedule.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Add, list, show or remove schedules (BullMQ job schedulers; flows on a schedule).",
        discussion: """
            A schedule is a BullMQ job scheduler: Node and Python BullMQ see and run the job schedules, and \
            schedules they created are listed here too. A flow schedule submits one run of the flow per slot, with \
            the run id <name>@<slot in UTC> (e.g. nightly@20261201T010000Z), from any Tributary worker serving the \
            schedule's queue; the flow's definition is stored with the schedule.

            Examples:
              tributary schedule add nightly --flow flows/nightly.json
              tributary schedule add nightly --flow flows/hello.json --cron "0 2 * * *" --tz Europe/Berlin
              tributary schedule add heartbeat --queue emails --job ping --every 30s --data '{"to": "ops"}'
              tributary schedule list
              tributary schedule show nightly
              tributary schedule remove nightly
            """,
        subcommands: [Add.self, List.self, Show.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a schedule.",
            discussion: """
                Give --flow FILE, or --queue and --job; and --cron (with --tz) or --every, unless the flow file has \
                a "schedule" object (flags given here win over it). --start and --end take ISO 8601 times \
                (2026-12-01T02:00:00Z) or ms since 1970. Adding an existing NAME replaces its settings.

                A flow schedule lives on --queue, or on the queue of the flow's first node; serve that queue with a \
                Tributary worker (tributary worker --queue Q).

                Prints the schedule's queue and next slot; --json prints the schedule as `list --json` does.
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: JSONOutputOption

        @Argument(help: "The schedule's name (its job scheduler id): non-empty, no ':' or '@'.")
        var name: String

        @Option(help: ArgumentHelp("A flow file to run on the schedule.", valueName: "file"))
        var flow: String?

        @Option(help: "The queue the schedule lives on (required with --job).")
        var queue: String?

        @Option(help: ArgumentHelp("The name of the jobs to add (with --queue).", valueName: "name"))
        var job: String?

        @Option(help: ArgumentHelp("The jobs' data, a JSON object: inline, @FILE or - (stdin).", valueName: "json|@file|-"))
        var data: String?

        @Option(help: ArgumentHelp("A cron pattern: 5 fields, or 6 with seconds first.", valueName: "expr"))
        var cron: String?

        @Option(help: ArgumentHelp("The IANA time zone of --cron (default UTC).", valueName: "zone"))
        var tz: String?

        @Option(help: ArgumentHelp("A fixed interval, e.g. 15m, 30s, 2h, 500ms.", valueName: "duration"))
        var every: String?

        @Option(help: "The most iterations.")
        var limit: Int?

        @Option(help: ArgumentHelp("No iteration before this time.", valueName: "time"))
        var start: String?

        @Option(help: ArgumentHelp("No iteration after this time.", valueName: "time"))
        var end: String?

        func validate() throws {
            if (flow == nil) == (job == nil) { throw ValidationError("give either --flow FILE or --queue Q --job NAME") }
            if job != nil && queue == nil { throw ValidationError("--job needs --queue") }
            if flow != nil && data != nil { throw ValidationError("--data goes with --job (a flow's nodes carry their data)") }
            if cron != nil && every != nil { throw ValidationError("give --cron or --every, not both") }
            if tz != nil && cron == nil { throw ValidationError("--tz goes with --cron") }
        }

        func run() async throws {
            var fileSchedule: JSONValue?
            var document: JSONValue?
            if let flow {
                let bytes = try ScheduleCommand.read(flow)
                do {
                    let value = try JSONValue.parse(bytes: FlowCompiler.withoutByteOrderMark(bytes), source: flow)
                    _ = try FlowCompiler.compile(value, source: flow)
                    document = value
                    fileSchedule = value["schedule"]
                } catch let error as FlowFileError {
                    for (problem, position) in ValidateCommand.locate(error) { Output.warn(ValidateCommand.line(problem, position)) }
                    throw ExitCode(ExitStatus.invalidInput.rawValue)
                }
            }
            let options = try repeatOptions(fileSchedule: fileSchedule)
            try await connection.withClient { client in
                let queueName: String
                if let document {
                    let producer = FlowProducer(client: client, prefix: connection.prefix)
                    queueName = try await producer.scheduleFlow(name, definition: document, repeat: options, queue: queue)
                } else {
                    queueName = queue!
                    let members = try data.map { try RunCommand.dataObject($0) } ?? [:]
                    try await connection.queue(queueName, client: client).upsertJobScheduler(
                        name, repeat: options, template: JobTemplate(name: job, data: .object(members)))
                }
                let scheduler = try await connection.queue(queueName, client: client).getJobScheduler(name)
                if output.json {
                    print((scheduler.map { ScheduleCommand.json($0, queue: queueName) } ?? .null).prettyPrinted())
                } else if let next = scheduler?.next {
                    print("schedule '\(name)' on queue '\(queueName)': next \(ScheduleCommand.time(next, zone: options.timeZone))")
                } else {
                    print("schedule '\(name)': no iteration is due any more (its end has passed); nothing was stored")
                }
            }
        }

        /// The timing: the flags, else the flow file's "schedule".
        private func repeatOptions(fileSchedule: JSONValue?) throws -> RepeatOptions {
            var options = RepeatOptions()
            if cron == nil && every == nil {
                guard let fileSchedule else {
                    throw CLIError("give --cron EXPR or --every DURATION" + (flow != nil ? " (or a \"schedule\" in the flow file)" : ""),
                                   status: .invalidInput)
                }
                do {
                    options = try FlowSchedule.repeatOptions(from: fileSchedule)
                } catch let error as QueueError {
                    throw CLIError("\(flow ?? ""): \(error.message)", status: .invalidInput)
                }
            }
            if let cron { options = RepeatOptions(pattern: cron, timeZone: tz) }
            if let every {
                guard let duration = FlowSchedule.parseDuration(every) else {
                    throw CLIError("--every '\(every)' is not a duration such as 15m, 30s, 2h or 500ms", status: .invalidInput)
                }
                options = RepeatOptions(every: duration)
            }
            if let limit { options.limit = limit }
            if let start { options.startDate = try ScheduleCommand.millis(start, option: "--start") }
            if let end { options.endDate = try ScheduleCommand.millis(end, option: "--end") }
            return options
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List schedules with their next slot, iteration count and source.",
            discussion: """
                SOURCE is `flow <name>` for a flow schedule and `job <name>` for a job schedule (whoever created \
                it: Tributary, Node or Python BullMQ). Without --queue, every queue under the prefix is searched.

                --json prints an array of BullMQ's getJobSchedulers records with "queue" and "source" added.
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: JSONOutputOption

        @Option(help: "Only this queue's schedules.")
        var queue: String?

        func run() async throws {
            try await connection.withClient { client in
                let found = try await ScheduleCommand.all(client: client, connection: connection, queue: queue)
                if output.json {
                    print(JSONValue.array(found.map { ScheduleCommand.json($0.scheduler, queue: $0.queue) }).prettyPrinted())
                } else if found.isEmpty {
                    print("no schedules under prefix '\(connection.prefix)'")
                } else {
                    print(Output.table(["NAME", "QUEUE", "SOURCE", "TIMING", "NEXT", "ITERATIONS"], found.map { entry in
                        let scheduler = entry.scheduler
                        let iterations = (scheduler.iterationCount.map(String.init) ?? "-") + (scheduler.limit.map { "/\($0)" } ?? "")
                        return [scheduler.id, entry.queue, ScheduleCommand.source(scheduler), ScheduleCommand.timing(scheduler),
                                scheduler.next.map { ScheduleCommand.time($0, zone: scheduler.timeZone) } ?? "-", iterations]
                    }))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one schedule: timing, next slot, iterations, template (exit 4 when there is none).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: JSONOutputOption

        @Argument(help: "The schedule's name.")
        var name: String

        @Option(help: "The queue it lives on (default: search every queue).")
        var queue: String?

        func run() async throws {
            try await connection.withClient { client in
                let found = try await ScheduleCommand.all(client: client, connection: connection, queue: queue)
                    .filter { $0.scheduler.id == name }
                guard let entry = found.first else {
                    throw CLIError("no schedule '\(name)' under prefix '\(connection.prefix)'", status: .notFound)
                }
                if found.count > 1 { Output.warn("schedule '\(name)' exists on several queues; showing queue '\(entry.queue)' (use --queue)") }
                let scheduler = entry.scheduler
                if output.json {
                    print(ScheduleCommand.json(scheduler, queue: entry.queue).prettyPrinted())
                    return
                }
                var lines = [
                    "schedule    \(scheduler.id)", "queue       \(entry.queue)", "source      \(ScheduleCommand.source(scheduler))",
                    "timing      \(ScheduleCommand.timing(scheduler))",
                    "next        \(scheduler.next.map { ScheduleCommand.time($0, zone: scheduler.timeZone) } ?? "-")",
                    "iterations  \(scheduler.iterationCount.map(String.init) ?? "-")" + (scheduler.limit.map { " of at most \($0)" } ?? ""),
                ]
                if let start = scheduler.startDate { lines.append("start       \(ScheduleCommand.time(start, zone: scheduler.timeZone))") }
                if let end = scheduler.endDate { lines.append("end         \(ScheduleCommand.time(end, zone: scheduler.timeZone))") }
                if FlowProducer.scheduledFlow(in: scheduler) == nil {
                    if let data = scheduler.templateData { lines.append("data        \(data.serialized())") }
                    if let opts = scheduler.templateOptions { lines.append("options     \(opts.serialized())") }
                }
                print(lines.joined(separator: "\n"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a schedule and its pending iteration (exit 4 when there is none).")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The schedule's name.")
        var name: String

        @Option(help: "The queue it lives on (default: every queue that has it).")
        var queue: String?

        func run() async throws {
            try await connection.withClient { client in
                let found = try await ScheduleCommand.all(client: client, connection: connection, queue: queue)
                    .filter { $0.scheduler.id == name }
                guard !found.isEmpty else {
                    throw CLIError("no schedule '\(name)' under prefix '\(connection.prefix)'", status: .notFound)
                }
                for entry in found {
                    try await connection.queue(entry.queue, client: client).removeJobScheduler(name)
                    print("removed schedule '\(name)' from queue '\(entry.queue)'")
                }
            }
        }
    }

    // MARK: Helpers

    /// Every scheduler of the queue (or of every queue under the prefix), soonest first.
    static func all(client: RedisClient, connection: ConnectionOptions, queue: String?)
        async throws -> [(queue: String, scheduler: JobScheduler)] {
        var names: [String]
        if let queue { names = [queue] } else { names = try await Queue.names(client: client, prefix: connection.prefix) }
        var found: [(queue: String, scheduler: JobScheduler)] = []
        for name in names {
            for scheduler in try await connection.queue(name, client: client).getJobSchedulers(ascending: true) {
                found.append((name, scheduler))
            }
        }
        return found.sorted { ($0.scheduler.next ?? .max) < ($1.scheduler.next ?? .max) }
    }

    static func source(_ scheduler: JobScheduler) -> String {
        if let flow = FlowProducer.scheduledFlow(in: scheduler) { return "flow \(flow.flow)" }
        return "job \(scheduler.name ?? scheduler.id)"
    }

    static func timing(_ scheduler: JobScheduler) -> String {
        if let pattern = scheduler.pattern { return "cron \(pattern)" + (scheduler.timeZone.map { " \($0)" } ?? " UTC") }
        if let every = scheduler.every { return "every " + Output.duration(milliseconds: every) }
        return "-"
    }

    static func json(_ scheduler: JobScheduler, queue: String) -> JSONValue {
        var object = scheduler.json.objectValue ?? [:]
        object["queue"] = .string(queue)
        object["source"] = .string(source(scheduler))
        return .object(object)
    }

    /// A slot as UTC, or as local time in the schedule's zone with the zone named.
    static func time(_ milliseconds: Int64, zone: String?) -> String {
        guard let zone, let timeZone = TimeZone(identifier: zone) else { return Output.timestamp(milliseconds) }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)) + " (\(zone))"
    }

    static func millis(_ text: String, option: String) throws -> Int64 {
        if let number = Int64(text) { return number }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        throw CLIError("\(option) '\(text)' is not an ISO 8601 time (2026-12-01T02:00:00Z) or ms since 1970",
                       status: .invalidInput)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let contents = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
            throw CLIError("\(path): \(reason)", status: .invalidInput)
        }
        return Array(contents)
    }
}
