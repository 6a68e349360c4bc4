import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// `/metrics` on the dashboard and on `tributary worker --metrics-port`, over real HTTP on a real redis-server.
@Suite("Dashboard metrics and probes")
struct DashboardMetricsTests {
    @Test("/metrics prints bullmq_job_count{queue,state} in Prometheus text, read when scraped")
    func jobCountGauge() async throws {
        try await withDashboard("mq", configure: { $0.queues = ["mq"] }) { dashboard, mq, _ in
            try await mq.add("a")
            try await mq.add("b")
            try await mq.add("c", options: .init(delay: .seconds(3600)))
            let first = try await dashboard.get("/metrics")
            #expect(first.status == 200, "\(first)")
            #expect(first.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(first.body.contains("# TYPE bullmq_job_count gauge"), "\(first)")
            #expect(first.body.contains(#"bullmq_job_count{queue="mq",state="waiting"} 2"#), "\(first)")
            #expect(first.body.contains(#"bullmq_job_count{queue="mq",state="delayed"} 1"#), "\(first)")
            #expect(first.body.contains(#"bullmq_job_count{queue="mq",state="failed"} 0"#), "\(first)")
            try await mq.add("d")
            let second = try await dashboard.get("/metrics")
            #expect(second.body.contains(#"bullmq_job_count{queue="mq",state="waiting"} 3"#), "\(second)")
        }
    }

    @Test("/metrics needs the token when the dashboard has one")
    func metricsNeedToken() async throws {
        try await withDashboard("mq", configure: { $0.access = .token("t0k") }) { dashboard, _, _ in
            let refused = try await dashboard.get("/metrics")
            #expect(refused.status == 401)
            let allowed = try await dashboard.get("/metrics", headers: ["Authorization: Bearer t0k"])
            #expect(allowed.status == 200)
        }
    }

    @Test("/healthz and /readyz answer JSON without credentials; readiness fails over a threshold")
    func probes() async throws {
        try await withDashboard("hq", configure: {
            $0.access = .token("t0k")
            $0.queues = ["hq"]
            $0.health.maximumFailed = 0
        }) { dashboard, hq, _ in
            let live = try await dashboard.get("/healthz")
            #expect(live.status == 200 && live.headers["content-type"] == "application/json", "\(live)")
            let liveJSON = try JSONValue.parse(live.body)
            #expect(liveJSON["status"] == "healthy" && liveJSON["kind"] == "liveness", "\(live)")
            let ready = try await dashboard.get("/readyz")
            #expect(ready.status == 200, "\(ready)")
            try await hq.add("x", options: .init(jobId: "x1"))
            try await failJob(hq, "x1", reason: "boom")
            let notReady = try await dashboard.get("/readyz")
            #expect(notReady.status == 503, "\(notReady)")
            let checks = try JSONValue.parse(notReady.body)["checks"]?.arrayValue ?? []
            #expect(checks.contains { $0["name"] == "failed:hq" && $0["ok"] == false }, "\(notReady)")
        }
    }

    @Test("/healthz turns unhealthy within its timeout when Redis stops")
    func healthWhenRedisStops() async throws {
        try await withQueue("down") { _, client, server in
            try await serveDashboard(client: client, configure: { $0.health.timeout = .seconds(1) }) { dashboard in
                #expect(try await dashboard.get("/healthz").status == 200)
                server.kill()
                let start = ContinuousClock.now
                let down = try await dashboard.get("/healthz")
                let elapsed = ContinuousClock.now - start
                #expect(down.status == 503, "\(down)")
                #expect(try JSONValue.parse(down.body)["status"] == "unhealthy")
                #expect(elapsed < .seconds(20), "answered in \(elapsed), for a 1 s timeout")
            }
        }
    }

    @Test("tributary worker --metrics-port serves /metrics for its queues, and no dashboard page")
    func workerMetricsPort() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("jobs") { jobs, _, server in
                try await jobs.add("later", options: .init(delay: .seconds(3600)))
                let log = directory + "/worker.log"
                let pid = try CLIProcess.spawn(["worker", "-q", "jobs", "--metrics-port", "0", "--redis", server.unixURL],
                                               in: directory, logFile: log)
                defer { kill(pid, SIGTERM); _ = ChildProcess.waitForExit(pid, timeout: .seconds(30)) }
                var base: String?
                #expect(try await eventually(.seconds(60)) {
                    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tributary worker: metrics on http://") }) else {
                        return false
                    }
                    base = String(line.dropFirst("tributary worker: metrics on ".count).dropLast("/metrics".count))
                    return true
                })
                let url = try #require(base)
                let metrics = try await DashboardUnderTest.curl([url + "/metrics"])
                #expect(metrics.status == 200, "\(metrics)")
                #expect(metrics.body.contains(#"bullmq_job_count{queue="jobs",state="delayed"} 1"#), "\(metrics)")
                let live = try await DashboardUnderTest.curl([url + "/healthz"])
                #expect(live.status == 200 && live.body.contains(#""status":"healthy""#), "\(live)")
                var ready = try await DashboardUnderTest.curl([url + "/readyz"])
                #expect(try await eventually(.seconds(60)) {
                    ready = try await DashboardUnderTest.curl([url + "/readyz"])
                    return ready.status == 200
                }, "the worker's own connection makes it ready: \(ready)")
                #expect(ready.body.contains(#"{"name":"workers:jobs","ok":true"#), "\(ready)")
                let page = try await DashboardUnderTest.curl([url + "/"])
                #expect(page.status == 404 && page.body.contains("/metrics, /healthz and /readyz only"), "\(page)")
            }
        }
    }

    @Test("worker --metrics-port on another address needs --metrics-token")
    func workerMetricsAddress() async throws {
        try await withCLIDirectory { directory in
            let result = try await CLIProcess.run(["worker", "-q", "jobs", "--metrics-port", "0", "--metrics-host", "0.0.0.0"],
                                                  in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--metrics-port: refusing to listen on 0.0.0.0"), "\(result)")
        }
    }
}
