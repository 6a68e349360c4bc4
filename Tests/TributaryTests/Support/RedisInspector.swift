import Tributary

/// One sorted-set member and its score, as read by ``RedisInspector/zset(_:)``.
struct ZEntry: Equatable, Sendable, CustomStringConvertible {
    /// The member.
    var member: String
    /// The score (exact for integers up to 2^53, which covers BullMQ's delayed and priority scores).
    var score: Double

    /// Creates an entry with an integral score.
    init(_ member: String, _ score: Int64) {
        self.member = member
        self.score = Double(score)
    }

    /// Creates an entry with any score.
    init(member: String, score: Double) {
        self.member = member
        self.score = score
    }

    /// `member@score`, with integral scores printed without a fraction.
    var description: String {
        let text = score == score.rounded() && abs(score) < 1e15 ? String(Int64(score)) : String(score)
        return "\(member)@\(text)"
    }
}

/// One stream entry as read by ``RedisInspector/stream(_:)``.
struct StreamEntry: Equatable, Sendable {
    /// The entry id, `<ms>-<seq>`.
    var id: String
    /// The field/value list in stored order: `[field1, value1, field2, value2, ...]`.
    var fields: [String]
}

/// Raw reads of Redis keys through a Tributary ``RedisClient``, so tests can check exactly what a peer stored.
/// Every method throws when the reply does not have the shape the command promises.
struct RedisInspector: Sendable {
    /// A reply that did not have the expected shape.
    struct UnexpectedReply: Error, CustomStringConvertible {
        /// The command that was sent.
        var command: String
        /// The reply received.
        var reply: RESPValue
        /// A readable explanation.
        var description: String { "unexpected reply to \(command): \(reply)" }
    }

    /// The connection used for every read.
    let client: RedisClient

    /// `HGETALL key` as a dictionary (empty when the key does not exist).
    func hash(_ key: String) async throws -> [String: String] {
        let items = try await strings("HGETALL", key)
        guard items.count % 2 == 0 else { throw UnexpectedReply(command: "HGETALL \(key)", reply: .null) }
        var result: [String: String] = [:]
        for index in stride(from: 0, to: items.count, by: 2) { result[items[index]] = items[index + 1] }
        return result
    }

    /// `LRANGE key 0 -1`, head first.
    func list(_ key: String) async throws -> [String] {
        try await strings("LRANGE", key, "0", "-1")
    }

    /// `SMEMBERS key` (unordered).
    func members(_ key: String) async throws -> [String] {
        try await strings("SMEMBERS", key)
    }

    /// `ZRANGE key 0 -1 WITHSCORES`, lowest score first.
    func zset(_ key: String) async throws -> [ZEntry] {
        let items = try await strings("ZRANGE", key, "0", "-1", "WITHSCORES")
        var result: [ZEntry] = []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard let score = Double(items[index + 1]) else {
                throw UnexpectedReply(command: "ZRANGE \(key)", reply: .bulkString(Array(items[index + 1].utf8)))
            }
            result.append(ZEntry(member: items[index], score: score))
        }
        return result
    }

    /// `GET key`, or `nil` when the key does not exist.
    func string(_ key: String) async throws -> String? {
        let reply = try await client.send(RedisCommand("GET", .string(key)))
        return reply.isNull ? nil : reply.string
    }

    /// Whether `key` exists.
    func exists(_ key: String) async throws -> Bool {
        try await client.send(RedisCommand("EXISTS", .string(key))).int == 1
    }

    /// The keys matching `pattern` (`KEYS`; fine on a private test server), sorted.
    func keys(_ pattern: String) async throws -> [String] {
        try await strings("KEYS", pattern).sorted()
    }

    /// `XRANGE key - +`: every entry with its fields in stored order.
    func stream(_ key: String) async throws -> [StreamEntry] {
        let reply = try await client.send(RedisCommand("XRANGE", .string(key), "-", "+"))
        guard let entries = reply.array else { throw UnexpectedReply(command: "XRANGE \(key)", reply: reply) }
        return try entries.map { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array else {
                throw UnexpectedReply(command: "XRANGE \(key)", reply: entry)
            }
            return StreamEntry(id: id, fields: try fields.map { field in
                guard let text = field.string else { throw UnexpectedReply(command: "XRANGE \(key)", reply: field) }
                return text
            })
        }
    }

    /// Sends a command whose reply is an array of strings and returns them.
    private func strings(_ name: String, _ arguments: String...) async throws -> [String] {
        let reply = try await client.send(RedisCommand(name, arguments: arguments.map { .string($0) }))
        let command = ([name] + arguments).joined(separator: " ")
        guard let elements = reply.array else { throw UnexpectedReply(command: command, reply: reply) }
        return try elements.map { element in
            guard let text = element.string else { throw UnexpectedReply(command: command, reply: element) }
            return text
        }
    }
}
