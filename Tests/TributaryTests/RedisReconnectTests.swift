import Testing
@testable import Tributary

/// Connection loss: commands in flight fail promptly, the client reconnects, and calls made while it is down
/// fail fast or wait, as configured.
@Suite("Redis reconnects")
struct RedisReconnectTests {
    private func configuration(_ url: String, _ behavior: RedisConfiguration.DisconnectedBehavior) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.reconnect = .init(minimumDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
        configuration.disconnectedBehavior = behavior
        return configuration
    }

    private func isConnectionClosed(_ error: any Error) -> Bool {
        (error as? RedisClientError)?.code == .connectionClosed
    }

    @Test("after CLIENT KILL the client reconnects by itself")
    func reconnectAfterClientKill() async throws {
        try await withRedisServer { server in
            let logs = LogCapture()
            let client = try await RedisClient.connect(try configuration(server.unixURL, .waitForReconnect), logger: logs.logger)
            try await client.send(RedisCommand("SET", "kept", "yes"))
            #expect(try server.cli("CLIENT", "KILL", "TYPE", "normal") == "1")
            // Give the client time to see the EOF: a command written before that is in flight and may fail.
            let deadline = ContinuousClock.now + .seconds(20)
            while !logs.all.contains(where: { $0.message == "lost the connection to Redis" }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await client.send(RedisCommand("GET", "kept")).string == "yes")
            #expect(logs.all.contains { $0.message == "lost the connection to Redis" })
            #expect(logs.all.contains { $0.message == "reconnected to Redis" })
            await client.close()
        }
    }

    @Test("commands in flight on a killed connection fail promptly with connectionClosed")
    func inFlightFailOnClientKill() async throws {
        try await withRedisServer { server in
            let connection = try await RedisConnection.connect(configuration: try RedisConfiguration(url: server.unixURL))
            let id = try await connection.sendChecked(RedisCommand("CLIENT", "ID")).int ?? -1
            // A BLPOP holds the connection; 50 PINGs queue behind it, all in flight.
            let blocked = connection.send(RedisCommand("BLPOP", "never", 0))
            let queued = (0..<50).map { _ in connection.send(RedisCommand("PING")) }
            try await Task.sleep(for: .milliseconds(100))
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try server.cli("CLIENT", "KILL", "ID", String(id)) == "1")
            var failures = 0
            for future in [blocked] + queued {
                do {
                    _ = try await future.get()
                } catch let error as RedisClientError {
                    // In flight: it may have run, so it is not marked safe to resend.
                    if error.code == .connectionClosed && !error.commandWasNotSent { failures += 1 }
                }
            }
            #expect(failures == 51)
            #expect(clock.now - start < .seconds(20))  // BLPOP 0 would otherwise wait forever
            // A later write on the closed connection fails at once too, marked as never sent.
            await #expect { try await connection.send(RedisCommand("PING")).get() } throws: {
                isConnectionClosed($0) && ($0 as? RedisClientError)?.commandWasNotSent == true
            }
        }
    }

    @Test("commands in flight when the server dies fail promptly; after a restart the client is back")
    func serverCrashAndRestart() async throws {
        try await withRedisServer { server in
            // Fail-fast, so that a PING not yet written when the server dies fails instead of waiting for it.
            let client = try await RedisClient.connect(try configuration(server.tcpURL, .failFast))
            let sleeping = Task { () -> (any Error)? in
                do { _ = try await client.send(RedisCommand("DEBUG", "SLEEP", 60)); return nil } catch { return error }
            }
            // Wait until the server is inside DEBUG SLEEP, i.e. our command is surely in flight: it stops answering.
            var busy = false
            let deadline = ContinuousClock.now + .seconds(20)
            while !busy && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))  // let the DEBUG SLEEP task run on the small pool
                busy = try server.runCLI(["PING"], timeout: .milliseconds(300)).timedOut
            }
            #expect(busy)
            let pings = Task {
                try await withThrowingTaskGroup(of: (any Error)?.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            do { _ = try await client.send(RedisCommand("PING")); return nil } catch { return error }
                        }
                    }
                    return try await group.reduce(into: [any Error]()) { if let error = $1 { $0.append(error) } }
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            let clock = ContinuousClock()
            let start = clock.now
            server.kill()
            let sleepError = await sleeping.value
            #expect((sleepError as? RedisClientError)?.code == .connectionClosed)
            // PINGs written before the crash fail with connectionClosed; any not yet written fail fast as disconnected.
            let errors = try await pings.value
            #expect(errors.count == 50)
            #expect(errors.allSatisfy { [.connectionClosed, .disconnected].contains(($0 as? RedisClientError)?.code) })
            #expect(clock.now - start < .seconds(30))  // DEBUG SLEEP 60 would otherwise hold them
            try await server.restart()
            var reply: RESPValue?
            for _ in 0..<250 where reply == nil {
                reply = try? await client.send(RedisCommand("PING"))
                if reply == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(reply == .simpleString("PONG"))
            #expect(client.isConnected)
            await client.close()
        }
    }

    @Test("while Redis is down, fail-fast calls throw at once and waiting calls complete once it is back")
    func failFastVersusWait() async throws {
        try await withRedisServer { server in
            let producer = try await RedisClient.connect(try configuration(server.tcpURL, .failFast))
            let worker = try await RedisClient.connect(try configuration(server.tcpURL, .waitForReconnect))
            server.kill()
            while producer.isConnected || worker.isConnected { try await Task.sleep(for: .milliseconds(10)) }

            let clock = ContinuousClock()
            let start = clock.now
            await #expect {
                try await producer.send(RedisCommand("PING"))
            } throws: { error in
                guard let error = error as? RedisClientError else { return false }
                return error.code == .disconnected && error.message.contains("unreachable")
            }
            #expect(clock.now - start < .seconds(10))  // a waiting call would hang until the restart below

            let waiting = Task { try await worker.send(RedisCommand("INCR", "after-outage")) }
            try await Task.sleep(for: .milliseconds(500))
            try await server.restart()
            #expect(try await waiting.value == .integer(1))
            // The producer is back too once its reconnect lands.
            var reply: RESPValue?
            for _ in 0..<200 where reply == nil {
                reply = try? await producer.send(RedisCommand("GET", "after-outage"))
                if reply == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(reply?.string == "1")
            await producer.close(); await worker.close()
        }
    }

    /// A waiting client whose server was killed, and a PING waiting for the reconnect.
    private func waitingCall(_ server: TestRedisServer) async throws -> (RedisClient, Task<RESPValue, any Error>) {
        let worker = try await RedisClient.connect(try configuration(server.tcpURL, .waitForReconnect))
        server.kill()
        while worker.isConnected { try await Task.sleep(for: .milliseconds(10)) }
        let waiting = Task { try await worker.send(RedisCommand("PING")) }
        try await Task.sleep(for: .milliseconds(100))
        return (worker, waiting)
    }

    @Test("close() fails waiting calls with clientClosed")
    func closeWakesWaiters() async throws {
        try await withRedisServer { server in
            let (worker, waiting) = try await waitingCall(server)
            await worker.close()
            await #expect { try await waiting.value } throws: { ($0 as? RedisClientError)?.code == .clientClosed }
        }
    }

    @Test("a waiting call can be cancelled")
    func cancelWaitingCall() async throws {
        try await withRedisServer { server in
            let (worker, waiting) = try await waitingCall(server)
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            await worker.close()
        }
    }
}
