import ArgumentParser
import Foundation
import Logging
import Tributary

/// Exercises the foundation end to end: parse a JSON flow file with jansson (precise errors), store its nodes in
/// Redis over one pipelined connection, read them back and check the round trip.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse a JSON flow file and round-trip its nodes through Redis (foundation demo).",
        discussion: """
            Without --redis, a private redis-server is started on a unix socket in a temporary directory and
            stopped at the end. Flows are not executed yet: that arrives with the queue and flow layers.

            Examples:
              tributary demo flows/hello.json
              tributary demo flows/hello.json --redis redis://127.0.0.1:6379/0

            Exit codes: 0 success, 1 Redis or runtime error, 2 invalid input file.
            """
    )

    @Argument(help: "The JSON flow file.")
    var file: String

    @Option(help: "Redis URL (redis://, rediss://, unix://). Default: REDIS_URL, else a private redis-server.")
    var redis: String?

    func run() async throws {
        var logger = Logger(label: "tributary")
        logger.logLevel = .warning
        let flow = try parseFile()
        let nodes = flow["nodes"]?.objectValue ?? [:]
        let name = flow["flow"]?.stringValue ?? file

        var privateServer: PrivateRedisServer?
        let url: String
        if let given = redis ?? ProcessInfo.processInfo.environment["REDIS_URL"] {
            url = given
        } else {
            let server = try PrivateRedisServer()
            privateServer = server
            url = server.url
        }
        defer { privateServer?.stop() }

        let client = try await RedisClient.connect(url: url, logger: logger)
        let info = try await client.checkQueueRequirements()
        print("Redis \(info.versionString) at \(client.configuration.endpoint) (maxmemory-policy: \(info.maxMemoryPolicy ?? "unknown"))")
        print("Flow '\(name)' from \(file): \(nodes.count) nodes")

        // Store every node concurrently on one pipelined connection, then read each back.
        let key = "tributary:demo:\(name)"
        let clock = ContinuousClock()
        let start = clock.now
        try await client.send(RedisCommand("DEL", .string(key)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (id, node) in nodes {
                group.addTask { try await client.send(RedisCommand("HSET", .string(key), .string(id), .string(node.serialized()))) }
            }
            try await group.waitForAll()
        }
        var mismatches: [String] = []
        for (id, node) in nodes {
            let stored = try await client.send(RedisCommand("HGET", .string(key), .string(id)))
            let readBack = try JSONValue.parse(stored.string ?? "")
            let needs = node["needs"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue ?? "?"] } ?? []
            let marker = readBack == node ? "ok" : "MISMATCH"
            if readBack != node { mismatches.append(id) }
            print("  \(marker)  \(id)\(needs.isEmpty ? "" : "  needs: \(needs.joined(separator: ", "))")  \(stored.string ?? "")")
        }
        let elapsed = clock.now - start
        try await client.send(RedisCommand("DEL", .string(key)))
        await client.close()
        guard mismatches.isEmpty else {
            throw CLIError("round trip changed nodes: \(mismatches.joined(separator: ", "))")
        }
        print("All \(nodes.count) nodes stored and read back unchanged in \(elapsed.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 1)))).")
    }

    private func parseFile() throws -> JSONValue {
        guard let bytes = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        do {
            return try JSONValue.parse(bytes: Array(bytes), source: file)
        } catch {
            FileHandle.standardError.write(Data((error.formatted(file: file) + "\n").utf8))
            throw ExitCode(2)
        }
    }
}
