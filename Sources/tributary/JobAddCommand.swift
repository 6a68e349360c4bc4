import ArgumentParser
import Tributary

extension JobCommand {
    /// `tributary job add NAME --queue Q [--data JSON|@file|-] [options] [--dedupe-id ID ...]`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one job to a queue (for any BullMQ-compatible worker).",
            discussion: """
                --dedupe-id makes the add idempotent: while a job holds that deduplication id, adding again \
                stores nothing and reports the job that holds it (BullMQ's deduplication: the id is held until \
                that job finishes, or for --dedupe-ttl; --dedupe-extend restarts the ttl on each skipped add; \
                --dedupe-replace replaces a holder that is still delayed; --dedupe-keep-last keeps an add made \
                while the holder runs and adds it when the holder finishes, the last such add winning). Node and \
                Python BullMQ producers using the same id in the same queue are deduplicated too.

                Prints "added job ID to queue 'Q'", or "deduplicated: job ID holds deduplication id 'X'; nothing \
                was added" (with --dedupe-keep-last and a running holder: the id the kept job will get). --json \
                prints {"queue", "id", "deduplicated"} (and "keptAs" for a kept job). A deduplicated add exits 0 as well.

                Examples:
                  tributary job add welcome --queue emails --data '{"to": "ada@example.com"}'
                  tributary job add report --queue reports --data @day.json --dedupe-id report-2026-12-01
                  tributary job add sync --queue crm --dedupe-id sync --dedupe-ttl 10m --dedupe-extend
                  tributary job add reindex --queue search --dedupe-id reindex --dedupe-keep-last
                  tributary job add reminder --queue emails --delay 1h --attempts 3
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The job name.")
        var name: String

        @Option(name: [.customShort("q"), .long], help: "The queue.")
        var queue: String

        @Option(help: ArgumentHelp("The job's data, a JSON object: inline, @FILE or - (stdin).", valueName: "json|@file|-"))
        var data: String?

        @Option(help: "A custom job id (not an integer, without ':').")
        var jobId: String?

        @Option(help: ArgumentHelp("Wait this long before the job may run.", valueName: "duration"))
        var delay: DurationArgument?

        @Option(help: "Priority, 1 (first) to 2097151; 0 or absent for none.")
        var priority = 0

        @Option(help: "Attempts in all, the first included.")
        var attempts = 0

        @Option(help: "Deduplication id: no second job while a job holds it.")
        var dedupeId: String?

        @Option(help: ArgumentHelp("Hold the deduplication id this long (default: until the job finishes).", valueName: "duration"))
        var dedupeTtl: DurationArgument?

        @Flag(help: "Restart the deduplication ttl on every skipped add (needs --dedupe-ttl).")
        var dedupeExtend = false

        @Flag(help: "Replace a holder of the deduplication id that is still delayed.")
        var dedupeReplace = false

        @Flag(help: "While the holder runs, keep this job and add it when the holder finishes (the last one wins).")
        var dedupeKeepLast = false

        @Option(help: ArgumentHelp("Store this field of the data encrypted (a dotted path such as card.number; repeat "
                                   + "for more). Needs TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE.", valueName: "path"))
        var encrypt: [String] = []

        @Flag(help: "Have the worker store the job's result encrypted (needs keys on the worker).")
        var encryptResult = false

        @OptionGroup var output: JSONOutputOption

        func validate() throws {
            if dedupeId == nil && (dedupeTtl != nil || dedupeExtend || dedupeReplace || dedupeKeepLast) {
                throw ValidationError("--dedupe-ttl, --dedupe-extend, --dedupe-replace and --dedupe-keep-last need --dedupe-id")
            }
            if dedupeExtend && dedupeTtl == nil { throw ValidationError("--dedupe-extend needs --dedupe-ttl") }
        }

        func run() async throws {
            let data: JSONValue = try self.data.map { .object(try RunCommand.dataObject($0)) } ?? .object([:])
            var options = JobOptions(jobId: jobId, delay: delay?.duration ?? .zero, priority: priority, attempts: attempts)
            if let dedupeId {
                options.deduplication = .init(id: dedupeId, ttl: dedupeTtl?.duration, extend: dedupeExtend,
                                              replace: dedupeReplace, keepLastIfActive: dedupeKeepLast)
            }
            options.encrypt = encrypt
            options.encryptResult = encryptResult
            let cipher = try FieldKeys.load()
            if !encrypt.isEmpty, cipher == nil {
                throw CLIError("--encrypt needs keys: \(FieldKeys.howTo); nothing was added", status: .invalidInput)
            }
            try await connection.withClient { client in
                let job = try await connection.queue(queue, client: client, cipher: cipher).add(name, data: data, options: options)
                if output.json {
                    var reply: JSONObject = [
                        "queue": .string(queue), "id": .string(job.id), "deduplicated": .bool(job.addWasDeduplicated),
                    ]
                    if let kept = job.keptNextJobId { reply["keptAs"] = .string(kept) }
                    print(JSONValue.object(reply).serialized())
                } else if let kept = job.keptNextJobId {
                    print("deduplicated: job \(job.id) holds deduplication id '\(dedupeId ?? "")' and is running; "
                        + "this job is kept and will be added as job \(kept) when it finishes")
                } else if job.addWasDeduplicated {
                    print("deduplicated: job \(job.id) holds deduplication id '\(dedupeId ?? "")'; nothing was added")
                } else {
                    print("added job \(job.id) to queue '\(queue)'")
                }
            }
        }
    }
}
