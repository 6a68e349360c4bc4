import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// The dashboard's actions and its protections (CSRF, confirmation, read-only, token and basic auth), over real
/// HTTP on a real redis-server.
@Suite("Dashboard actions and access")
struct DashboardActionTests {
    @Test("retry moves a failed job back to wait; without the CSRF token nothing changes")
    func retry() async throws {
        try await withDashboard("pay") { dashboard, pay, _ in
            try await pay.add("charge", options: .init(jobId: "c1"))
            try await failJob(pay, "c1", reason: "bank down")
            let forged = try await dashboard.post("/queues/pay/jobs/c1/retry", form: [("csrf", "guessed")])
            #expect(forged.status == 403 && forged.body.contains("CSRF token"), "\(forged)")
            let missing = try await dashboard.post("/queues/pay/jobs/c1/retry", form: [])
            #expect(missing.status == 403)
            #expect(try await pay.getState("c1") == .failed)
            let done = try await dashboard.act("/queues/pay/jobs/c1/retry")
            #expect(done.status == 303, "\(done)")
            #expect(done.headers["location"]?.hasPrefix("/queues/pay/jobs/c1?notice=") == true)
            #expect(try await pay.getState("c1") == .waiting)
            let again = try await dashboard.act("/queues/pay/jobs/c1/retry")
            #expect(again.status == 409 && again.body.contains("only failed or completed jobs"), "\(again)")
        }
    }

    @Test("remove asks for confirmation first; promote makes a delayed job wait")
    func removeAndPromote() async throws {
        try await withDashboard("tidy") { dashboard, tidy, _ in
            try await tidy.add("old", options: .init(jobId: "r1"))
            try await tidy.add("soon", options: .init(jobId: "d1", delay: .seconds(3600)))
            let confirmPage = try await dashboard.get("/queues/tidy/jobs/r1/remove")
            #expect(confirmPage.status == 200 && confirmPage.body.contains(#"name="confirm" value="yes""#), "\(confirmPage)")
            let unconfirmed = try await dashboard.act("/queues/tidy/jobs/r1/remove")
            #expect(unconfirmed.status == 200 && unconfirmed.body.contains("This cannot be undone"), "\(unconfirmed)")
            #expect(try await tidy.getJob("r1") != nil)
            let removed = try await dashboard.act("/queues/tidy/jobs/r1/remove", [("confirm", "yes")])
            #expect(removed.status == 303, "\(removed)")
            #expect(try await tidy.getJob("r1") == nil)
            let promoted = try await dashboard.act("/queues/tidy/jobs/d1/promote")
            #expect(promoted.status == 303, "\(promoted)")
            #expect(try await tidy.getState("d1") == .waiting)
        }
    }

    @Test("pause and resume a queue; clean needs confirmation and deletes finished jobs")
    func queueActions() async throws {
        try await withDashboard("ops") { dashboard, ops, _ in
            try await ops.add("x", options: .init(jobId: "x1"))
            try await failJob(ops, "x1", reason: "boom")
            #expect(try await dashboard.act("/queues/ops/pause").status == 303)
            #expect(try await ops.isPaused())
            let paused = try await dashboard.get("/queues/ops")
            #expect(paused.body.contains(#"id="queue-status">paused<"#) && paused.body.contains(#"action="/queues/ops/resume""#))
            #expect(try await dashboard.act("/queues/ops/resume").status == 303)
            #expect(try await !ops.isPaused())
            let unconfirmed = try await dashboard.act("/queues/ops/clean", [("state", "failed"), ("grace", "0")])
            #expect(unconfirmed.status == 200 && unconfirmed.body.contains("cannot be undone"), "\(unconfirmed)")
            #expect(try await ops.getJobCounts().failed == 1)
            let cleaned = try await dashboard.act("/queues/ops/clean", [("state", "failed"), ("grace", "0"), ("confirm", "yes")])
            #expect(cleaned.status == 303, "\(cleaned)")
            #expect(cleaned.headers["location"]?.contains("Deleted%201%20failed") == true, "\(cleaned)")
            #expect(try await ops.getJobCounts().failed == 0)
        }
    }

    @Test("read-only: pages show no action and every POST is refused")
    func readOnly() async throws {
        try await withDashboard("ro", configure: { $0.readOnly = true }) { dashboard, ro, _ in
            try await ro.add("x", options: .init(jobId: "x1"))
            try await failJob(ro, "x1", reason: "boom")
            let page = try await dashboard.get("/queues/ro/jobs/x1")
            #expect(page.status == 200 && page.body.contains("read-only"))
            #expect(!page.body.contains("<form method=\"post\""), "\(page)")
            let refused = try await dashboard.act("/queues/ro/jobs/x1/retry")
            #expect(refused.status == 403 && refused.body.contains("--read-only"), "\(refused)")
            #expect(try await dashboard.act("/queues/ro/pause").status == 403)
            #expect(try await ro.getState("x1") == .failed)
            #expect(try await !ro.isPaused())
        }
    }

    @Test("a token is required in a header, a cookie, or once in the address")
    func token() async throws {
        try await withDashboard("tok", configure: { $0.access = .token("s3cret") }) { dashboard, _, _ in
            let refused = try await dashboard.get("/")
            #expect(refused.status == 401 && refused.body.contains("Bearer"), "\(refused)")
            #expect(try await dashboard.get("/", headers: ["Authorization: Bearer wrong"]).status == 401)
            #expect(try await dashboard.get("/", headers: ["Authorization: Bearer s3cret"]).status == 200)
            let login = try await dashboard.get("/queues/tok?token=s3cret")
            #expect(login.status == 303 && login.headers["location"] == "/queues/tok", "\(login)")
            #expect(login.headers["set-cookie"]?.hasPrefix("tributary_token=s3cret; Path=/; HttpOnly; SameSite=Strict") == true)
            #expect(try await dashboard.get("/", headers: ["Cookie: tributary_token=s3cret"]).status == 200)
            let post = try await dashboard.post("/queues/tok/pause", form: [("csrf", dashboard.csrf)])
            #expect(post.status == 401, "an action without the token is refused before anything else")
        }
    }

    @Test("basic auth: the browser is asked for credentials; wrong ones are refused")
    func basicAuth() async throws {
        try await withDashboard("ba", configure: { $0.access = .basic(user: "ops", password: "pw:1") }) { dashboard, _, _ in
            let refused = try await dashboard.get("/")
            #expect(refused.status == 401 && refused.headers["www-authenticate"]?.hasPrefix("Basic realm=") == true, "\(refused)")
            let wrong = Data("ops:nope".utf8).base64EncodedString()
            #expect(try await dashboard.get("/", headers: ["Authorization: Basic \(wrong)"]).status == 401)
            let right = Data("ops:pw:1".utf8).base64EncodedString()
            #expect(try await dashboard.get("/", headers: ["Authorization: Basic \(right)"]).status == 200)
        }
    }

    @Test("any address but loopback needs a token or credentials: the dashboard refuses to start")
    func unprotectedAddress() async throws {
        #expect(throws: DashboardError.self) { try DashboardConfiguration(host: "0.0.0.0").validate() }
        do {
            try DashboardConfiguration(host: "10.1.2.3", port: 80).validate()
            Issue.record("an unprotected address was accepted")
        } catch let error as DashboardError {
            #expect(error.code == .unprotectedAddress && error.message.contains("--token"))
        }
        try DashboardConfiguration(host: "0.0.0.0", access: .token("t")).validate()
        try DashboardConfiguration(host: "127.0.0.1").validate()
        try await withCLIDirectory { directory in
            let result = try await CLIProcess.run(["dashboard", "--host", "0.0.0.0", "--port", "0"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("refusing to listen on 0.0.0.0 without protection"), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/.tributary/redis.sock"),
                    "nothing is started before the refusal")
        }
    }
}
