/// A Lua script run with EVALSHA; its SHA-1 is computed locally, so the first call costs no extra round trip.
///
/// ```swift
/// let incrementBy = RedisScript(source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let total = try await client.run(incrementBy, keys: ["counter"], arguments: [5]).int
/// ```
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The SHA-1 of the source, as Redis names the script.
    public let sha1: String

    /// Creates a script from its Lua source.
    public init(source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(source.utf8)
    }

    /// The EVALSHA command that runs this script (for pipelines and transactions).
    public func command(keys: [String], arguments: [RedisArgument]) -> RedisCommand {
        var all: [RedisArgument] = []
        all.reserveCapacity(3 + keys.count + arguments.count)
        all.append("EVALSHA")
        all.append(.string(sha1))
        all.append(.integer(Int64(keys.count)))
        for key in keys { all.append(.string(key)) }
        all.append(contentsOf: arguments)
        return RedisCommand(fullArguments: all)
    }

    /// The SCRIPT LOAD command for this script.
    public var loadCommand: RedisCommand { RedisCommand("SCRIPT", "LOAD", .string(source)) }
}

extension RedisClient {
    /// Runs a script with EVALSHA; when the server does not know it (NOSCRIPT: first use, restart, SCRIPT FLUSH),
    /// loads it with SCRIPT LOAD and runs it again. Calls that meet NOSCRIPT for the same script at the same time
    /// share one SCRIPT LOAD. On a Redis Cluster the script runs on the node that owns its keys' slot (or
    /// `routingKey`'s, for a script that takes its keys from ARGV), and is loaded on each node that needs it.
    ///
    /// - Parameters:
    ///   - script: the script to run.
    ///   - keys: the script's KEYS.
    ///   - arguments: the script's ARGV.
    ///   - routingKey: a key the script works on that is not in `keys` (see ``RedisCommand/routingKey``).
    /// - Returns: the script's reply.
    /// - Throws: ``RedisServerError`` for an error raised by the script or the server.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [RedisArgument] = [],
                    routingKey: String? = nil) async throws -> RESPValue {
        let command = script.command(keys: keys, arguments: arguments).routed(by: routingKey)
        switch backend {
        case .node(let node): return try await node.run(script, command: command)
        case .cluster(let cluster): return try await cluster.run(script, command: command)
        }
    }

    /// How many SCRIPT LOADs this client has sent (each script loads once per server unless the server loses it).
    public var scriptLoadCount: Int {
        switch backend {
        case .node(let node): return node.scriptLoads.count
        case .cluster(let cluster): return cluster.scriptLoadCount
        }
    }
}
