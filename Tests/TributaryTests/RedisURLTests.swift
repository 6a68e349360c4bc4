import Testing
@testable import Tributary

@Suite("Redis URLs")
struct RedisURLTests {
    @Test("redis:// with user, password, port and database")
    func fullTCP() throws {
        let configuration = try RedisConfiguration(url: "redis://worker:p%40ss@cache.internal:6380/3?name=tributary-worker")
        #expect(configuration.endpoint == .tcp(host: "cache.internal", port: 6380))
        #expect(configuration.username == "worker")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == 3)
        #expect(configuration.clientName == "tributary-worker")
        #expect(configuration.tls == nil)
    }

    @Test("defaults: port 6379, database 0, no credentials")
    func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(configuration.database == 0 && configuration.username == nil && configuration.password == nil)
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@10.0.0.1:7000")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(passwordOnly.endpoint == .tcp(host: "10.0.0.1", port: 7000))
    }

    @Test("IPv6 hosts in brackets")
    func ipv6() throws {
        #expect(try RedisConfiguration(url: "redis://[::1]:6390").endpoint == .tcp(host: "::1", port: 6390))
        #expect(try RedisConfiguration(url: "redis://[::1]").endpoint == .tcp(host: "::1", port: 6379))
    }

    @Test("rediss:// turns TLS on with hostname verification, files as query items")
    func tls() throws {
        let configuration = try RedisConfiguration(url: "rediss://redis.example.com:6390?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem")
        let tls = try #require(configuration.tls)
        #expect(tls.verifyHostname)
        #expect(tls.caFile == "/etc/ca.pem" && tls.certificateFile == "/c.pem" && tls.keyFile == "/k.pem")
        #expect(configuration.tlsServerHostname == "redis.example.com")
        let insecure = try RedisConfiguration(url: "rediss://127.0.0.1:6390?verify_hostname=false")
        #expect(insecure.tls?.verifyHostname == false)
        #expect(insecure.tlsServerHostname == nil)
    }

    @Test("unix sockets, with db and password as query items")
    func unixSockets() throws {
        let plain = try RedisConfiguration(url: "unix:///var/run/redis/redis.sock?db=2&password=pw")
        #expect(plain.endpoint == .unixSocket(path: "/var/run/redis/redis.sock"))
        #expect(plain.database == 2 && plain.password == "pw")
        #expect(try RedisConfiguration(url: "redis+unix:///tmp/r.sock").endpoint == .unixSocket(path: "/tmp/r.sock"))
    }

    @Test("mistakes name the part that is wrong", arguments: [
        ("localhost:6379", "is not a Redis URL"),
        ("http://localhost", "scheme 'http'"),
        ("redis://localhost:abc", "port 'abc'"),
        ("redis://localhost:70000", "between 1 and 65535"),
        ("redis://localhost/x", "database 'x'"),
        ("redis://localhost?tls=1", "unknown option 'tls'"),
        ("redis://localhost?ca=/x", "not a rediss:// URL"),
        ("unix://", "no socket path"),
    ])
    func invalid(url: String, fragment: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch let error as RedisClientError {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains(fragment), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
