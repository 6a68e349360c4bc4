import ArgumentParser
import Foundation
import Tributary

/// `tributary stats`: job counts per state per queue.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show job counts per state for each queue.",
        discussion: """
            A named queue that does not exist is reported on stderr and left out; when none of the named \
            queues exists, the exit status is 4. Without QUEUE arguments, every queue under the prefix is shown (queues are found by their \
            <prefix>:<queue>:meta and <prefix>:<queue>:id keys). PAUSED counts the waiting jobs of a paused queue; \
            a paused queue is marked with (paused). Below the table, the global limits of the queues that have \
            some (see `tributary queue limit`).

            SCHEDULERS is the number of job schedulers of the queue (see `tributary schedule list`).

            --json prints {"queues": [{"queue", "paused", "counts": {"waiting", "active", "delayed", \
            "prioritized", "waiting-children", "completed", "failed", "paused"}, "limits": {"concurrency", "rateLimit", \
            "rateLimitedFor"}, "schedulers"}]}; with --watch, one such line \
            per refresh (with a "time" field in ms since 1970).

            Examples:
              tributary stats
              tributary stats emails reports --json
              tributary stats --watch --interval 1s
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Queues to show (default: every queue under the prefix).")
    var queues: [String] = []

    @Flag(help: "Refresh until interrupted.")
    var watch = false

    @Option(help: "With --watch, the time between refreshes.")
    var interval = DurationArgument(.seconds(2), text: "2s")

    @OptionGroup var output: JSONOutputOption

    static let states: [(name: String, state: JobState?)] = [
        ("waiting", .waiting), ("active", .active), ("delayed", .delayed), ("prioritized", .prioritized),
        ("waiting-children", .waitingChildren), ("completed", .completed), ("failed", .failed), ("paused", nil),
    ]

    func validate() throws {
        if let bad = queues.first(where: { $0.isEmpty || $0.contains(":") }) {
            throw ValidationError("queue name '\(bad)' must be non-empty and must not contain ':'")
        }
        guard interval.duration > .zero else { throw ValidationError("--interval must be positive") }
    }

    func run() async throws {
        try await connection.withClient { client in
            let isTerminal = isatty(STDOUT_FILENO) == 1
            var reported: Set<String> = []
            while true {
                var names = queues.isEmpty ? try await Queue.names(client: client, prefix: connection.prefix) : queues
                if !queues.isEmpty {
                    let missing = try await Self.missing(queues, client: client, prefix: connection.prefix)
                    for name in missing where !reported.contains(name) {
                        Output.warn("no queue '\(name)' under prefix '\(connection.prefix)' (no job was ever added to it)")
                        reported.insert(name)
                    }
                    names.removeAll { missing.contains($0) }
                    if names.isEmpty && !watch {
                        throw CLIError("none of the named queues exists under prefix '\(connection.prefix)'", status: .notFound)
                    }
                }
                var rows: [(name: String, paused: Bool, counts: JobCounts, limits: QueueLimits)] = []
                var schedulers: [String: Int] = [:]
                for name in names {
                    let queue = try connection.queue(name, client: client)
                    rows.append((name, try await queue.isPaused(), try await queue.getJobCounts(), try await queue.getLimits()))
                    schedulers[name] = try await queue.getJobSchedulersCount()
                }
                if output.json {
                    var object: JSONObject = [:]
                    if watch { object["time"] = .int(Int64(Date().timeIntervalSince1970 * 1000)) }
                    object["queues"] = .array(rows.map { row in
                        var counts = JSONObject()
                        for (name, state) in Self.states {
                            counts[name] = .int(Int64(state.map { row.counts[$0] } ?? row.counts.paused))
                        }
                        return .object(["queue": .string(row.name), "paused": .bool(row.paused), "counts": .object(counts),
                                        "limits": QueueCommand.Limit.json(row.limits),
                                        "schedulers": .int(Int64(schedulers[row.name] ?? 0))])
                    })
                    print(watch ? JSONValue.object(object).serialized() : JSONValue.object(object).prettyPrinted())
                } else {
                    if watch && isTerminal { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                    if watch { print("\(Output.timestamp(Int64(Date().timeIntervalSince1970 * 1000)))  (every \(interval))\n") }
                    if rows.isEmpty {
                        print("no queues under prefix '\(connection.prefix)'")
                    } else {
                        let header = ["QUEUE"] + Self.states.map { $0.name.uppercased() } + ["SCHEDULERS"]
                        let lines = rows.map { row in
                            [row.name + (row.paused ? " (paused)" : "")]
                                + Self.states.map { String($0.state.map { row.counts[$0] } ?? row.counts.paused) }
                                + [String(schedulers[row.name] ?? 0)]
                        }
                        print(Output.table(header, lines))
                        let limited = rows.filter { $0.limits.concurrency != nil || $0.limits.rateLimit != nil
                            || $0.limits.rateLimitedFor != nil }
                        if !limited.isEmpty { print("") }
                        for row in limited { print("limits of \(row.name): \(QueueCommand.Limit.describe(row.limits))") }
                    }
                }
                fflush(nil)
                guard watch else { return }
                try await Task.sleep(for: interval.duration)
            }
        }
    }

    /// The named queues that do not exist: neither `<prefix>:<queue>:meta` nor `<prefix>:<queue>:id` is there (the
    /// keys ``Queue/names(client:prefix:)`` finds queues by).
    static func missing(_ names: [String], client: RedisClient, prefix: String) async throws -> Set<String> {
        let replies = try await client.pipeline(names.map { name in
            RedisCommand("EXISTS", .string("\(prefix):\(name):meta"), .string("\(prefix):\(name):id"))
        })
        return Set(zip(names, replies).filter { $0.1.int == 0 }.map(\.0))
    }
}
