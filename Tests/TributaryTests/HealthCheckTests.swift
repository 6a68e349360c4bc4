import Foundation
import Testing
@testable import Tributary

/// ``HealthCheck`` against a real redis-server: healthy, a wrong memory policy, missing workers, thresholds, a
/// stopped server.
@Suite("Health check")
struct HealthCheckTests {
    @Test("with Redis up, noeviction and a worker on the queue: liveness and readiness are healthy, 200, JSON body")
    func healthy() async throws {
        try await withQueue { queue, client, _ in
            let worker = try Worker(queue: "jobs", client: client) { _ in .null }
            let health = HealthCheck(client: client, queues: ["jobs"])
            try await whileRunning([worker]) { () async throws in
                #expect(try await eventually { try await queue.getWorkers().count == 1 })
                let live = await health.liveness()
                #expect(live.isHealthy && live.httpStatus == 200, "\(live)")
                #expect(live.checks.map(\.name) == ["redis"])
                let ready = await health.readiness()
                #expect(ready.isHealthy && ready.httpStatus == 200, "\(ready)")
                #expect(ready.checks.map(\.name) == ["redis", "redis-version", "maxmemory-policy", "workers:jobs"])
                let workers = try await queue.getWorkers().count
                #expect(ready["workers:jobs"]?.detail == "\(workers) worker connection\(workers == 1 ? "" : "s") (CLIENT LIST)")
                let body = try JSONValue.parse(ready.json())
                #expect(body["status"] == "healthy" && body["kind"] == "readiness")
                #expect(body["checks"]?[3]?["name"] == "workers:jobs" && body["checks"]?[3]?["ok"] == true)
            }
        }
    }

    @Test("a maxmemory-policy other than noeviction makes readiness fail, naming the policy; liveness stays healthy")
    func wrongMemoryPolicy() async throws {
        try await withQueue { _, client, server in
            _ = try server.cli("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
            let health = HealthCheck(client: client, thresholds: .init(minimumWorkers: 0))
            let ready = await health.readiness()
            #expect(!ready.isHealthy && ready.httpStatus == 503, "\(ready)")
            let policy = try #require(ready["maxmemory-policy"])
            #expect(!policy.ok && policy.detail.contains("'allkeys-lru'") && policy.detail.contains("noeviction"))
            #expect(ready.checks.filter { !$0.ok }.map(\.name) == ["maxmemory-policy"])
            #expect(await health.liveness().isHealthy)
            _ = try server.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
            #expect(await health.readiness().isHealthy)
        }
    }

    @Test("no worker on a queue, too many waiting or failed jobs, a too-new minimum version: each check fails with its reason")
    func thresholds() async throws {
        try await withQueue { queue, client, _ in
            try await queue.addBulk((0..<3).map { _ in JobRequest("waits") })
            let strict = HealthCheck(client: client, queues: ["jobs"],
                                     thresholds: .init(minimumServerVersion: [99], maximumFailed: 0, maximumWaiting: 2))
            let ready = await strict.readiness()
            #expect(ready.status == .unhealthy)
            #expect(ready.checks.filter { !$0.ok }.map(\.name) == ["redis-version", "workers:jobs", "waiting:jobs"], "\(ready)")
            #expect(ready["redis-version"]?.detail.contains("needs 99 or newer") == true)
            #expect(ready["workers:jobs"]?.detail == "0 worker connections (CLIENT LIST); at least 1 needed")
            #expect(ready["waiting:jobs"]?.detail == "3 waiting jobs (at most 2)")
            #expect(ready["failed:jobs"]?.ok == true)
            let relaxed = HealthCheck(client: client, queues: ["jobs"],
                                      thresholds: .init(minimumWorkers: 0, maximumWaiting: 3))
            #expect(await relaxed.readiness().isHealthy)
        }
    }

    @Test("Redis stopped: liveness and readiness turn unhealthy within the timeout, for a fail-fast and a reconnecting client")
    func redisStopped() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.tcpURL)
            configuration.reconnect = .init(minimumDelay: .milliseconds(50), maximumDelay: .milliseconds(200))
            let failFast = try await RedisClient.connect(configuration)
            configuration.disconnectedBehavior = .waitForReconnect
            let reconnecting = try await RedisClient.connect(configuration)
            let thresholds = HealthThresholds(timeout: .seconds(1), minimumWorkers: 0)
            for client in [failFast, reconnecting] {
                #expect(await HealthCheck(client: client, thresholds: thresholds).liveness().isHealthy)
            }
            server.kill()
            for client in [failFast, reconnecting] {
                let health = HealthCheck(client: client, thresholds: thresholds)
                // The check bounds itself by its 1 s timeout; 30 s only guards against a hang on a loaded machine.
                let outcome = await within(.seconds(30)) { await health.liveness() }
                let live = try #require(try outcome?.get(), "liveness hung with Redis stopped")
                #expect(live.status == .unhealthy && live.httpStatus == 503)
                let detail = live["redis"]?.detail ?? ""
                #expect(detail.contains("did not answer PING") && detail.contains("127.0.0.1:\(server.port)"), "\(detail)")
                if client === reconnecting { #expect(detail.contains("no answer within 1000.0 ms"), "\(detail)") }
                let ready = try #require(try await within(.seconds(30)) { await health.readiness() }?.get())
                #expect(ready.checks.map(\.name) == ["redis"] && !ready.isHealthy)
            }
            try await server.restart()
            #expect(try await eventually { await HealthCheck(client: failFast, thresholds: thresholds).liveness().isHealthy })
            await failFast.close()
            await reconnecting.close()
        }
    }
}
