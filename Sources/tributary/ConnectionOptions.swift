import ArgumentParser
import Foundation
import Logging
import Tributary

/// `--redis` and `--prefix`, shared by every command that talks to Redis.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Redis URL: redis://[user:pass@]host[:port][/db], rediss://… (TLS), unix:///path/redis.sock.",
        discussion: "Default: $REDIS_URL, else the embedded Redis in ./.tributary (started if needed).",
        valueName: "url"))
    var redis: String?

    @Option(name: .customLong("prefix"), help: ArgumentHelp("Key prefix of the queues (default: bull).", valueName: "prefix"))
    var explicitPrefix: String?

    @Option(help: ArgumentHelp(
        "How long connecting to Redis may take, handshake included (default: 10s, or the URL's connect_timeout=).",
        valueName: "duration"))
    var connectTimeout: DurationArgument?

    @Option(help: ArgumentHelp(
        "How long a Redis reply may take before the connection is given up (default: 30s, or the URL's command_timeout=; 0: forever).",
        valueName: "duration"))
    var redisTimeout: DurationArgument?

    /// The key prefix: `--prefix`, else `bull`.
    var prefix: String { explicitPrefix ?? "bull" }

    func validate() throws {
        guard explicitPrefix?.isEmpty != true else { throw ValidationError("--prefix must not be empty") }
        if let connectTimeout, connectTimeout.duration <= .zero {
            throw ValidationError("--connect-timeout must be positive (got '\(connectTimeout.text)')")
        }
    }

    /// The URL given with `--redis` or `REDIS_URL`, if any.
    var explicitURL: String? {
        if let redis { return redis }
        if let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty { return url }
        return nil
    }

    /// Where to connect: the explicit URL, or the embedded server (started when it is not running; a note goes
    /// to stderr then).
    func configuration(_ disconnectedBehavior: RedisConfiguration.DisconnectedBehavior = .failFast) async throws
        -> RedisConfiguration {
        var configuration: RedisConfiguration
        if let url = explicitURL {
            configuration = try RedisConfiguration(url: url)
        } else {
            let server = EmbeddedServer()
            if try await server.ensureRunning() {
                FileHandle.standardError.write(Data("""
                    tributary: started the embedded Redis (\(server.url)); it keeps running with its data \
                    until `tributary server stop`\n
                    """.utf8))
            }
            configuration = server.configuration
        }
        configuration.disconnectedBehavior = disconnectedBehavior
        if let connectTimeout { configuration.connectTimeout = connectTimeout.duration }
        if let redisTimeout { configuration.commandTimeout = redisTimeout.duration == .zero ? nil : redisTimeout.duration }
        return configuration
    }

    /// Connects; a failure to connect exits with status 3.
    func connect(_ disconnectedBehavior: RedisConfiguration.DisconnectedBehavior = .failFast,
                 logger: Logger = Logger(label: "tributary")) async throws -> RedisClient {
        let configuration = try await configuration(disconnectedBehavior)
        let client: RedisClient
        do {
            client = try await RedisClient.connect(configuration, logger: logger)
        } catch let error as RedisClientError {
            throw CLIError("cannot reach Redis at \(configuration.endpoint): \(error.description)", status: .redisUnavailable)
        }
        // Refuses servers older than 6.2; warns on stderr when maxmemory-policy is not noeviction.
        do {
            _ = try await client.checkQueueRequirements()
        } catch let error as RedisClientError {
            await client.close()
            throw CLIError("Redis at \(configuration.endpoint) cannot hold BullMQ queues: \(error.description)",
                           status: .redisUnavailable)
        }
        return client
    }

    /// Connects, runs `body`, and closes the client whatever happens.
    func withClient<T>(_ body: (RedisClient) async throws -> T) async throws -> T {
        let client = try await connect()
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// A queue handle on `client`.
    func queue(_ name: String, client: RedisClient, cipher: FieldCipher? = nil) throws -> Queue {
        try Queue(name, client: client, prefix: prefix, cipher: cipher)
    }
}

/// A `--json` flag.
struct JSONOutputOption: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}

/// A duration on the command line: `250ms`, `30s`, `5m`, `2h`, `1d`; a bare number is seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let duration: Duration
    let text: String

    init(_ duration: Duration, text: String) {
        self.duration = duration
        self.text = text
    }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        let trimmed = argument.trimmingCharacters(in: .whitespaces).lowercased()
        var number = Substring(trimmed)
        var factor = 1.0
        for (suffix, value) in units where trimmed.hasSuffix(suffix) {
            let candidate = trimmed.dropLast(suffix.count)
            if Double(candidate) != nil {
                number = candidate
                factor = value
                break
            }
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        duration = .milliseconds(Int64((value * factor * 1000).rounded()))
        text = argument
    }

    var description: String { text }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// Text output helpers.
enum Output {
    /// Writes a line to stderr.
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A table: columns of numbers right-aligned, others left-aligned.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let numeric = header.indices.map { column in !rows.isEmpty && rows.allSatisfy { Int($0[column]) != nil } }
        return all.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric[column] ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    /// Epoch milliseconds as `2025-01-31 12:34:56.789Z`.
    static func timestamp(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(milliseconds % 1000)
        let fraction = String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }

    /// A duration for people: `850ms`, `12.3s`, `4m 05s`, `2h 03m`.
    static func duration(milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 {
            let tenths = (milliseconds + 50) / 100
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let seconds = milliseconds / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 3600 { return "\(seconds / 60)m \(two(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h \(two(seconds / 60 % 60))m" }
        return "\(seconds / 86_400)d \(two(seconds / 3600 % 24))h"
    }

    /// `text` cut to `maxLines` lines and `maxCharacters` characters, saying how much was left out.
    static func truncated(_ text: String, maxLines: Int = 20, maxCharacters: Int = 2000) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var cut = false
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            cut = true
        }
        var result = lines.joined(separator: "\n")
        if result.count > maxCharacters {
            result = String(result.prefix(maxCharacters))
            cut = true
        }
        return cut ? result + "\n… (\(text.count) characters in all; --full shows everything)" : result
    }

    /// `text` with every line after the first indented by `indent` spaces.
    static func indented(_ text: String, by indent: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\n" + String(repeating: " ", count: indent))
    }
}
