import ArgumentParser
import Tributary

extension QueueCommand {
    /// `tributary queue limit Q [--concurrency N] [--rate MAX/DURATION] [--clear]`.
    struct Limit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set a queue's global concurrency and rate limit (honoured by every worker).",
            discussion: """
                The limits are kept in the queue's meta hash as BullMQ keeps them (fields concurrency, max, \
                duration), so Tributary, Node and Python BullMQ workers all honour them, across processes. \
                --concurrency N lets at most N jobs of the queue be active at once; --rate MAX/DURATION lets at \
                most MAX jobs start per DURATION (250ms, 1s, 5m...). --clear removes both (with --concurrency or \
                --rate, only the limits named are set after clearing). Without options, the current limits are \
                shown.

                --json prints {"queue", "concurrency", "rateLimit": {"max", "duration"} (ms), "rateLimitedFor"} \
                (ms; null when none).

                Examples:
                  tributary queue limit emails --concurrency 3
                  tributary queue limit emails --rate 100/1m
                  tributary queue limit emails --clear
                  tributary queue limit emails --json
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: QueueCommand.Target

        @Option(help: "At most this many jobs of the queue active at once, across every worker.")
        var concurrency: Int?

        @Option(help: ArgumentHelp("At most MAX jobs started per DURATION, across every worker.", valueName: "max/duration"))
        var rate: RateArgument?

        @Flag(help: "Remove the global concurrency and rate limit first.")
        var clear = false

        @OptionGroup var output: JSONOutputOption

        func validate() throws {
            if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        }

        func run() async throws {
            try await connection.withClient { client in
                let queue = try connection.queue(target.queue, client: client)
                if clear {
                    try await queue.removeGlobalConcurrency()
                    try await queue.removeGlobalRateLimit()
                }
                if let concurrency { try await queue.setGlobalConcurrency(concurrency) }
                if let rate { try await queue.setGlobalRateLimit(rate.limit) }
                let limits = try await queue.getLimits()
                if output.json {
                    print(Self.json(limits, queue: target.queue).prettyPrinted())
                } else {
                    print("queue '\(target.queue)': \(Self.describe(limits))")
                }
            }
        }

        /// `concurrency 3, rate 10/1s` or `no limits`; `rate-limited for 2.5s` when a window is full.
        static func describe(_ limits: QueueLimits) -> String {
            var parts: [String] = []
            if let concurrency = limits.concurrency { parts.append("concurrency \(concurrency)") }
            if let rate = limits.rateLimit { parts.append("rate \(rate.max)/\(window(rate.duration))") }
            if parts.isEmpty { parts.append("no limits") }
            if let wait = limits.rateLimitedFor { parts.append("rate-limited for \(Output.duration(milliseconds: wait.milliseconds))") }
            return parts.joined(separator: ", ")
        }

        /// A rate window as `--rate` takes it: `1s`, `5m`, `250ms`.
        static func window(_ duration: Duration) -> String {
            let milliseconds = duration.milliseconds
            for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 {
                return "\(milliseconds / size)\(unit)"
            }
            return "\(milliseconds)ms"
        }

        static func json(_ limits: QueueLimits, queue: String? = nil) -> JSONValue {
            var object: JSONObject = [:]
            if let queue { object["queue"] = .string(queue) }
            object["concurrency"] = limits.concurrency.map { .int(Int64($0)) } ?? .null
            object["rateLimit"] = limits.rateLimit.map {
                .object(["max": .int(Int64($0.max)), "duration": .int($0.duration.milliseconds)])
            } ?? .null
            object["rateLimitedFor"] = limits.rateLimitedFor.map { .int($0.milliseconds) } ?? .null
            return .object(object)
        }
    }
}

/// `MAX/DURATION` on the command line: `10/1s`, `100/1m`, `5/250ms`.
struct RateArgument: ExpressibleByArgument, Sendable {
    let limit: RateLimit

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let max = Int(parts[0].trimmingCharacters(in: .whitespaces)), max >= 1,
              let duration = DurationArgument(argument: String(parts[1])), duration.duration >= .milliseconds(1)
        else { return nil }
        limit = RateLimit(max: max, duration: duration.duration)
    }
}
