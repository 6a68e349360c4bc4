import Logging
import Testing
@testable import Tributary

/// The client against a real redis-server started by each test.
@Suite("Redis client")
struct RedisClientTests {
    @Test("10,000 concurrent commands pipelined on one connection each get their own reply")
    func concurrentPipelining() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.tcpURL)
            let replies = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<10_000 {
                    group.addTask {
                        // Each task reads back its own value, so a mismatched reply shows up as a wrong value.
                        let reply = try await client.send(RedisCommand("ECHO", .string("value-\(index)")))
                        return (index, reply.string)
                    }
                }
                var collected: [Int: String?] = [:]
                for try await (index, value) in group { collected[index] = value }
                return collected
            }
            #expect(replies.count == 10_000)
            #expect(replies.allSatisfy { $0.value == "value-\($0.key)" })
            // And one connection carried them all.
            let clients = try await client.send(RedisCommand("CLIENT", "LIST", "TYPE", "normal")).string ?? ""
            #expect(clients.split(separator: "\n").count == 1)
            await client.close()
        }
    }

    @Test("error replies surface as RedisServerError and the connection stays usable")
    func errorReplies() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            try await client.send(RedisCommand("SET", "text", "hello"))
            await #expect {
                try await client.send(RedisCommand("INCR", "text"))
            } throws: { error in
                (error as? RedisServerError)?.message == "ERR value is not an integer or out of range"
            }
            await #expect {
                try await client.send(RedisCommand("LPUSH", "text", "x"))
            } throws: { error in
                (error as? RedisServerError)?.code == "WRONGTYPE"
            }
            #expect(try await client.send(RedisCommand("GET", "text")).string == "hello")
            await client.close()
        }
    }

    @Test("nil, empty and nested arrays")
    func replyShapes() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            #expect(try await client.send(RedisCommand("GET", "missing")) == .null)
            #expect(try await client.send(RedisCommand("LRANGE", "missing", 0, -1)) == .array([]))
            let nested = try await client.send(RedisCommand("EVAL", "return {1, {'a', {}}, {{2}}, 'b'}", 0))
            #expect(nested == .array([
                .integer(1), .array([.bulkString(Array("a".utf8)), .array([])]), .array([.array([.integer(2)])]),
                .bulkString(Array("b".utf8)),
            ]))
            try await client.send(RedisCommand("HSET", "h", "f", "v"))
            #expect(try await client.send(RedisCommand("HMGET", "h", "f", "nope")) == .array([.bulkString(Array("v".utf8)), .null]))
            #expect(try await client.send(RedisCommand("BZPOPMIN", "empty-zset", .double(0.05))) == .null)  // a null array
            await client.close()
        }
    }

    @Test("a 10 MiB value goes in and out intact")
    func largeBulk() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.tcpURL)
            let size = 10 * 1024 * 1024
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            try await client.send(RedisCommand("SET", "big", .bytes(payload)))
            // A small command pipelined right behind the big one must still get its own reply.
            async let big = client.send(RedisCommand("GET", "big"))
            async let small = client.send(RedisCommand("STRLEN", "big"))
            let (bigReply, smallReply) = try await (big, small)
            #expect(bigReply.bytes == payload)
            #expect(smallReply == .integer(Int64(size)))
            await client.close()
        }
    }

    @Test("SELECT and CLIENT SETNAME come from the URL")
    func databaseAndName() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.tcpURL + "/5?name=tributary-test")
            try await client.send(RedisCommand("SET", "where", "db5"))
            #expect(try server.cli("-n", "5", "GET", "where") == "db5")
            #expect(try server.cli("GET", "where") == "")
            #expect(try await client.send(RedisCommand("CLIENT", "GETNAME")).string == "tributary-test")
            await client.close()
        }
    }

    @Test("scripts run by SHA and are loaded again after SCRIPT FLUSH")
    func scripts() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let script = RedisScript(source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.run(script, keys: ["counter"], arguments: [5]) == .integer(5))
            #expect(try server.cli("SCRIPT", "EXISTS", script.sha1) == "1")
            try await client.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await client.run(script, keys: ["counter"], arguments: [2]) == .integer(7))
            let failing = RedisScript(source: "return redis.error_reply('BADJOB job is not there')")
            await #expect {
                try await client.run(failing)
            } throws: { error in
                (error as? RedisServerError)?.message == "BADJOB job is not there"
            }
            await client.close()
        }
    }

    @Test("50 tasks meeting NOSCRIPT at once share one SCRIPT LOAD, and a flushed cache is loaded again once")
    func concurrentFirstUsesLoadOnce() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let script = RedisScript(source: "return redis.call('INCR', KEYS[1])")
            func fiftyAtOnce() async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<50 { group.addTask { _ = try await client.run(script, keys: ["counter"]) } }
                    try await group.waitForAll()
                }
            }
            try await client.send(RedisCommand("CONFIG", "RESETSTAT"))
            try await fiftyAtOnce()
            #expect(try await client.send(RedisCommand("GET", "counter")).string == "50")
            // What the server counted, not only what the client says it sent.
            let stats = try await client.send(RedisCommand("INFO", "commandstats")).string ?? ""
            #expect(stats.contains("cmdstat_script|load:calls=1,"), "\(stats)")
            #expect(client.scriptLoadCount == 1)
            try await client.send(RedisCommand("SCRIPT", "FLUSH"))
            try await fiftyAtOnce()
            #expect(try await client.send(RedisCommand("GET", "counter")).string == "100")
            #expect(client.scriptLoadCount == 2)
            await client.close()
        }
    }

    @Test("MULTI/EXEC returns each reply; an error inside EXEC is an error, not dropped")
    func transactions() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let replies = try await client.transaction([
                RedisCommand("SET", "a", "1"), RedisCommand("INCR", "a"), RedisCommand("LPUSH", "l", "x", "y"),
            ])
            #expect(replies == [.simpleString("OK"), .integer(2), .integer(2)])

            // INCR on text fails at EXEC time; Redis runs the rest, and the caller must hear about it.
            try await client.send(RedisCommand("SET", "text", "abc"))
            await #expect {
                try await client.transaction([RedisCommand("SET", "b", "1"), RedisCommand("INCR", "text")])
            } throws: { error in
                guard let error = error as? RedisClientError else { return false }
                return error.code == .transactionFailed && error.message.contains("Command 2 of 2 (INCR) failed inside EXEC")
                    && error.message.contains("not an integer")
            }

            // A command rejected while queuing aborts the whole transaction: nothing runs.
            await #expect {
                try await client.transaction([RedisCommand("SET", "c", "1"), RedisCommand("GET")])
            } throws: { error in
                (error as? RedisClientError)?.code == .transactionFailed
            }
            #expect(try await client.send(RedisCommand("EXISTS", "c")) == .integer(0))
            await client.close()
        }
    }

    @Test("scripts in a transaction are loaded inside the MULTI, so a flushed cache cannot split it")
    func scriptsInTransaction() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let push = RedisScript(source: "return redis.call('RPUSH', KEYS[1], ARGV[1])")
            try await client.send(RedisCommand("SCRIPT", "FLUSH"))
            let replies = try await client.transaction(
                [push.command(keys: ["list"], arguments: ["a"]), push.command(keys: ["list"], arguments: ["b"])],
                scripts: [push, push])
            #expect(replies == [.integer(1), .integer(2)])
            #expect(try await client.send(RedisCommand("LRANGE", "list", 0, -1)) == .array([.bulkString([97]), .bulkString([98])]))
            await client.close()
        }
    }

    @Test("a blocking command waits on its own connection while other commands go through")
    func blockingCommandsOnDedicatedConnection() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            async let popped = client.send(RedisCommand("BZPOPMIN", "jobs", 60))
            try await Task.sleep(for: .milliseconds(100))
            // Not queued behind the BZPOPMIN: the PINGs return while it is still blocked (it only returns once the
            // ZADD below gives it something, and it returns that element).
            for _ in 0..<20 { #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG")) }
            try await client.send(RedisCommand("ZADD", "jobs", 1, "job-1"))
            let reply = try await popped
            #expect(reply.array?.compactMap(\.string) == ["jobs", "job-1", "1"])
            let clients = try server.cli("CLIENT", "LIST", "TYPE", "normal")
            #expect(clients.split(separator: "\n").count == 3)  // main, blocking, redis-cli
            await client.close()
        }
    }

    @Test("cancelling a task blocked in BZPOPMIN frees it at once")
    func blockingCancellation() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { try await client.send(RedisCommand("BZPOPMIN", "nothing", 120)) }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
            // Far below the 120 s it would otherwise block.
            #expect(clock.now - start < .seconds(30))
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            await client.close()
        }
    }

    @Test("a reply nested deeper than the reader supports is a clear error, and the client recovers")
    func nestingLimit() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.unixURL)
            configuration.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(100))
            configuration.disconnectedBehavior = .waitForReconnect
            let client = try await RedisClient.connect(configuration)
            let deep = "return " + String(repeating: "{", count: 10) + "1" + String(repeating: "}", count: 10)
            await #expect {
                try await client.send(RedisCommand("EVAL", .string(deep), 0))
            } throws: { error in
                guard let error = error as? RedisClientError else { return false }
                return error.code == .protocolError && error.message.contains("could not be parsed")
            }
            // The broken connection was closed; the client reconnects and works again.
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            await client.close()
        }
    }

    @Test("queue requirements: version accepted, eviction policy warned about, old versions refused")
    func queueRequirements() async throws {
        try await withRedisServer { server in
            let logs = LogCapture()
            let client = try await RedisClient.connect(try RedisConfiguration(url: server.unixURL), logger: logs.logger)
            let info = try await client.checkQueueRequirements()
            #expect(info.version.lexicographicallyPrecedes([6, 2]) == false)
            #expect(info.maxMemoryPolicy == "noeviction")
            #expect(!logs.all.contains { $0.level == .warning })
            try await client.send(RedisCommand("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"))
            #expect(try await client.checkQueueRequirements().maxMemoryPolicy == "allkeys-lru")
            #expect(logs.all.contains { $0.level == .warning && $0.message.contains("'allkeys-lru'; it should be 'noeviction'") })
            await client.close()
        }
        #expect(try RedisClient.parseVersion(info: "# Server\r\nredis_version:6.0.9\r\nredis_mode:standalone\r\n") == [6, 0, 9])
        #expect(throws: RedisClientError.self) { try RedisClient.requireQueueSupport(version: [6, 0, 9], endpoint: .unixSocket(path: "/x")) }
        #expect(throws: Never.self) { try RedisClient.requireQueueSupport(version: [6, 2, 0], endpoint: .unixSocket(path: "/x")) }
    }
}
