/// What Tributary checked about a Redis server before using it for queues.
public struct RedisServerInfo: Sendable, Hashable {
    /// The server version, e.g. `[7, 0, 15]`.
    public let version: [Int]
    /// The `maxmemory-policy` setting, or `nil` when CONFIG GET is not allowed (managed services, ACLs).
    public let maxMemoryPolicy: String?

    /// The version as text, e.g. `7.0.15`.
    public var versionString: String { version.map(String.init).joined(separator: ".") }
}

extension RedisClient {
    /// The oldest Redis version Tributary's queues support.
    public static let minimumQueueServerVersion = [6, 2, 0]

    /// Checks that the server can hold BullMQ-compatible queues: its version must be at least 6.2 (this throws
    /// otherwise), and its `maxmemory-policy` should be `noeviction` (a warning is logged otherwise, because
    /// eviction silently deletes jobs and queue structures).
    ///
    /// - Throws: ``RedisClientError`` with code `unsupportedServer`.
    @discardableResult
    public func checkQueueRequirements() async throws -> RedisServerInfo {
        let info = try await send(RedisCommand("INFO", "server")).string ?? ""
        let version = try Self.parseVersion(info: info)
        try Self.requireQueueSupport(version: version, endpoint: configuration.endpoint)
        var policy: String?
        do {
            let reply = try await send(RedisCommand("CONFIG", "GET", "maxmemory-policy"))
            if let pair = reply.array, pair.count == 2 { policy = pair[1].string }
        } catch let error as RedisServerError {
            logger.debug("could not read maxmemory-policy", metadata: ["error": "\(error.message)"])
        }
        if let policy, policy != "noeviction" {
            logger.warning(
                "Redis maxmemory-policy is '\(policy)'; it should be 'noeviction', or Redis may delete queue keys under memory pressure",
                metadata: ["redis.endpoint": "\(configuration.endpoint)"])
        }
        return RedisServerInfo(version: version, maxMemoryPolicy: policy)
    }

    /// Reads `redis_version` from the text of `INFO server`.
    static func parseVersion(info: String) throws -> [Int] {
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("redis_version:") }) else {
            throw RedisClientError(.unexpectedReply, "INFO server has no redis_version field")
        }
        return line.dropFirst("redis_version:".count).split(separator: ".").map { Int($0) ?? 0 }
    }

    /// Throws `unsupportedServer` for a version older than ``minimumQueueServerVersion``.
    static func requireQueueSupport(version: [Int], endpoint: RedisConfiguration.Endpoint) throws {
        if version.lexicographicallyPrecedes(minimumQueueServerVersion) {
            throw RedisClientError(
                .unsupportedServer,
                "Redis \(version.map(String.init).joined(separator: ".")) at \(endpoint) is too old: Tributary needs Redis 6.2 or newer")
        }
    }
}
