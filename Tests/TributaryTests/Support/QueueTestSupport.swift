import Testing
@testable import Tributary

/// Runs `body` with a fresh redis-server, a client that waits through reconnects (as workers' clients do) and a
/// queue called `name`; the client is closed afterwards, whatever happens.
func withQueue(_ name: String = "jobs", overTCP: Bool = false,
               _ body: (Queue, RedisClient, TestRedisServer) async throws -> Void) async throws {
    try await withRedisServer { server in
        var configuration = try RedisConfiguration(url: overTCP ? server.tcpURL : server.unixURL)
        configuration.disconnectedBehavior = .waitForReconnect
        let client = try await RedisClient.connect(configuration)
        do {
            try await body(try Queue(name, client: client), client, server)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Every field of a hash, read with HGETALL.
func hashFields(_ client: RedisClient, _ key: String) async throws -> [String: String] {
    let flat = try await client.send(RedisCommand("HGETALL", .string(key))).array ?? []
    return Dictionary(uniqueKeysWithValues: stride(from: 0, to: flat.count - 1, by: 2).map {
        (flat[$0].string ?? "", flat[$0 + 1].string ?? "")
    })
}

/// Runs `workers` while `body` runs, then closes them: gracefully (up to `closeTimeout`) after `body` returns, at
/// once when it throws.
func whileRunning<T>(_ workers: [Worker], closeTimeout: Duration = .seconds(10),
                     _ body: () async throws -> T) async throws -> T {
    let runners = workers.map { worker in Task { try await worker.run() } }
    do {
        let result = try await body()
        for worker in workers { await worker.close(timeout: closeTimeout) }
        for runner in runners { try await runner.value }
        return result
    } catch {
        for worker in workers { await worker.close(force: true) }
        throw error
    }
}
