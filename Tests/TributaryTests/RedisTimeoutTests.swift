import Foundation
import Testing
@testable import Tributary

/// Runs `body` but stops waiting for it after `limit`: `nil` then (the work is left behind, cancelled). A hang
/// of the code under test becomes a failed expectation instead of a hung test run.
func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let (stream, continuation) = AsyncStream.makeStream(of: Result<T, any Error>?.self)
    let work = Task {
        do { continuation.yield(.success(try await body())) } catch { continuation.yield(.failure(error)) }
        continuation.finish()
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.yield(nil)
        continuation.finish()
    }
    defer { work.cancel(); timer.cancel() }
    for await first in stream { return first }
    return nil
}

/// Servers that accept connections and never answer: connect and command timeouts.
@Suite("Redis timeouts")
struct RedisTimeoutTests {
    private func quick(_ url: String, _ behavior: RedisConfiguration.DisconnectedBehavior = .failFast) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        // Short enough for a test, long enough for a loaded machine to answer a live server in time.
        configuration.connectTimeout = .seconds(5)
        configuration.commandTimeout = .seconds(5)
        configuration.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        configuration.disconnectedBehavior = behavior
        return configuration
    }

    @Test("connecting to a listener that never answers fails after connectTimeout, naming the endpoint")
    func silentServerConnect() async throws {
        let silent = try SilentServer()
        defer { silent.stop() }
        let configuration = try quick(silent.url)
        let outcome = await within(.seconds(60)) { try await RedisClient.connect(configuration) }
        guard let outcome else {
            Issue.record("connecting to a silent server hung for 60 s")
            return
        }
        switch outcome {
        case .success(let client):
            await client.close()
            Issue.record("connected to a server that never answers")
        case .failure(let error):
            let failure = try #require(error as? RedisClientError, "\(error)")
            #expect(failure.code == .connectFailed)
            #expect(failure.description.contains("127.0.0.1:\(silent.port)"), "\(failure)")
            #expect((failure.underlying as? RedisClientError)?.code == .timedOut, "\(failure)")
        }
    }

    @Test("a server that stops answering: commands fail with timedOut, and the client is back once it answers again")
    func pausedServer() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(try quick(server.tcpURL))
            try await client.send(RedisCommand("SET", "kept", "yes"))
            kill(server.pid, SIGSTOP)
            let stopped = await within(.seconds(60)) { try await client.send(RedisCommand("GET", "kept")) }
            kill(server.pid, SIGCONT)
            guard let stopped else {
                Issue.record("a command to a stopped server hung for 60 s")
                await client.close()
                return
            }
            #expect(throws: RedisClientError.self) { try stopped.get() }
            if case .failure(let error as RedisClientError) = stopped {
                #expect(error.code == .timedOut)
                #expect(error.message.contains("127.0.0.1:\(server.port)"), "\(error)")
            }
            #expect(try await eventually(.seconds(60)) { (try? await client.send(RedisCommand("GET", "kept")))?.string == "yes" })
            await client.close()
        }
    }

    @Test("a blocking command may block for its own timeout; past it plus the command timeout, it fails")
    func blockingCommands() async throws {
        try await withRedisServer { server in
            var configuration = try quick(server.tcpURL)
            configuration.commandTimeout = .seconds(4)
            let client = try await RedisClient.connect(configuration)
            // Blocks 6 s, longer than the 4 s command timeout: the reply (nil, nothing to pop) still counts.
            #expect(try await client.send(RedisCommand("BLPOP", "nothing", 6)) == .null)
            #expect(RedisCommand("BZPOPMIN", "k", .double(1.5)).blockingTimeout == .milliseconds(1500))
            #expect(RedisCommand("XREAD", "BLOCK", 250, "STREAMS", "s", "$").blockingTimeout == .milliseconds(250))
            #expect(RedisCommand("BLMPOP", 3, 1, "k", "LEFT").blockingTimeout == .seconds(3))
            #expect(RedisCommand("BLPOP", "k", 0).blockingTimeout == nil)

            kill(server.pid, SIGSTOP)
            let stopped = await within(.seconds(60)) { try await client.send(RedisCommand("BLPOP", "nothing", 1)) }
            kill(server.pid, SIGCONT)
            guard let stopped else {
                Issue.record("a blocking command to a stopped server hung for 60 s")
                await client.close()
                return
            }
            #expect(throws: RedisClientError.self) { try stopped.get() }
            if case .failure(let error as RedisClientError) = stopped { #expect(error.code == .timedOut) }
            await client.close()
        }
    }

    @Test("connect_timeout and command_timeout in the URL")
    func urlOptions() throws {
        let configuration = try RedisConfiguration(url: "redis://h:1/0?connect_timeout=500ms&command_timeout=2m")
        #expect(configuration.connectTimeout == .milliseconds(500))
        #expect(configuration.commandTimeout == .seconds(120))
        #expect(try RedisConfiguration(url: "redis://h?command_timeout=0").commandTimeout == nil)
        #expect(try RedisConfiguration(url: "unix:///tmp/r.sock?connect_timeout=2.5").connectTimeout == .milliseconds(2500))
        #expect(RedisConfiguration().commandTimeout == .seconds(30))
        #expect(RedisConfiguration().connectTimeout == .seconds(10))
        for bad in ["redis://h?connect_timeout=soon", "redis://h?connect_timeout=0", "redis://h?command_timeout=-1s"] {
            #expect(throws: RedisClientError.self, "\(bad)") { try RedisConfiguration(url: bad) }
        }
    }
}
