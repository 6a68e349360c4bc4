import Testing
@testable import Tributary

/// TLS (with certificates the test generates) and ACL logins, against real servers.
@Suite("Redis TLS and ACL")
struct RedisSecurityTests {
    @Test("rediss:// with the right CA verifies the server and works")
    func tlsWorks() async throws {
        var options = TestRedisServer.Options()
        options.tls = true
        try await withRedisServer(options) { server in
            let certificates = try #require(server.certificates)
            let client = try await RedisClient.connect(url: server.tlsURL + "?ca=\(certificates.caFile)")
            defer { Task { await client.close() } }
            try await client.send(RedisCommand("SET", "secret", "over tls"))
            #expect(try await client.send(RedisCommand("GET", "secret")).string == "over tls")
            let info = try server.cli("CLIENT", "LIST", "TYPE", "normal")
            #expect(info.contains("laddr=127.0.0.1:\(server.tlsPort)"))
        }
    }

    @Test("a server certificate from another CA is refused")
    func wrongCA() async throws {
        var options = TestRedisServer.Options()
        options.tls = true
        try await withRedisServer(options) { server in
            let certificates = try #require(server.certificates)
            await #expect {
                try await RedisClient.connect(url: server.tlsURL + "?ca=\(certificates.otherCAFile)")
            } throws: { error in
                (error as? RedisClientError)?.code == .connectFailed
            }
        }
    }

    @Test("hostname verification is on: an address not in the certificate is refused unless named or turned off")
    func hostnameVerification() async throws {
        var options = TestRedisServer.Options()
        options.tls = true
        // Also listen on 127.0.0.2, which the test certificate does not name (it names localhost and 127.0.0.1).
        options.extraConfig = ["bind 127.0.0.1 127.0.0.2"]
        try await withRedisServer(options) { server in
            let ca = try #require(server.certificates).caFile
            let unnamed = "rediss://127.0.0.2:\(server.tlsPort)?ca=\(ca)"
            await #expect { try await RedisClient.connect(url: unnamed) } throws: {
                ($0 as? RedisClientError)?.code == .connectFailed
            }
            await #expect { try await RedisClient.connect(url: unnamed + "&server_name=not-redis.example") } throws: {
                ($0 as? RedisClientError)?.code == .connectFailed
            }
            for url in [unnamed + "&server_name=localhost", unnamed + "&verify_hostname=false"] {
                let client = try await RedisClient.connect(url: url)
                #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
                await client.close()
            }
        }
    }

    @Test("a server that requires client certificates accepts ours and refuses a client without one")
    func clientCertificates() async throws {
        var options = TestRedisServer.Options()
        options.tls = true
        options.tlsAuthClients = "yes"
        try await withRedisServer(options) { server in
            let certificates = try #require(server.certificates)
            let base = server.tlsURL + "?ca=\(certificates.caFile)"
            await #expect(throws: RedisClientError.self) { try await RedisClient.connect(url: base) }
            let client = try await RedisClient.connect(url: base + "&cert=\(certificates.clientCertFile)&key=\(certificates.clientKeyFile)")
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            await client.close()
        }
    }

    @Test("missing TLS files are a configuration error naming them")
    func missingTLSFiles() async throws {
        await #expect {
            try await RedisClient.connect(url: "rediss://localhost:1?ca=/nonexistent/ca.pem")
        } throws: { error in
            guard let error = error as? RedisClientError else { return false }
            return error.code == .tlsConfiguration && error.message.contains("/nonexistent/ca.pem")
        }
    }

    @Test("an ACL user logs in; a wrong password is an authentication error")
    func aclUsers() async throws {
        var options = TestRedisServer.Options()
        options.aclUsers = [(name: "worker", password: "s3cret", rules: "~* &* +@all")]
        try await withRedisServer(options) { server in
            let client = try await RedisClient.connect(url: "redis://worker:s3cret@127.0.0.1:\(server.port)")
            #expect(try await client.send(RedisCommand("ACL", "WHOAMI")).string == "worker")
            await client.close()
            await #expect {
                try await RedisClient.connect(url: "redis://worker:wrong@127.0.0.1:\(server.port)")
            } throws: { error in
                guard let error = error as? RedisClientError else { return false }
                return error.code == .authenticationFailed && error.message.contains("WRONGPASS") && error.message.contains("'worker'")
            }
        }
    }

    @Test("a password-protected server: the password works, its absence is a clear error")
    func requirePass() async throws {
        var options = TestRedisServer.Options()
        options.requirePassword = "hunter2"
        try await withRedisServer(options) { server in
            let client = try await RedisClient.connect(url: "redis://:hunter2@127.0.0.1:\(server.port)")
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            await client.close()
            await #expect {
                try await RedisClient.connect(url: server.tcpURL)
            } throws: { error in
                guard let error = error as? RedisClientError else { return false }
                return error.code == .authenticationFailed && error.message.contains("requires a password")
            }
        }
    }
}
