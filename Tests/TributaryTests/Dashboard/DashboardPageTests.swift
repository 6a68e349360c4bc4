import Foundation
import Testing
@testable import Tributary
@testable import TributaryDashboard

/// Every page of the dashboard over real HTTP, on a real redis-server.
@Suite("Dashboard pages")
struct DashboardPageTests {
    @Test("the queues page lists each queue with its counts and whether it is paused")
    func queuesPage() async throws {
        try await withDashboard("mail") { dashboard, mail, client in
            try await mail.add("welcome")
            try await mail.add("later", options: .init(delay: .seconds(3600)))
            let reports = try Queue("reports", client: client)
            try await reports.add("daily")
            try await reports.pause()
            await dashboard.routes.directory.refresh()
            let page = try await dashboard.get("/")
            #expect(page.status == 200, "\(page)")
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.body.contains(#"<td><a href="/queues/mail">mail</a></td><td>running</td><td><a href="/queues/mail/jobs?state=waiting">1</a></td>"#), "\(page)")
            #expect(page.body.contains(#"<a href="/queues/mail/jobs?state=delayed">1</a>"#))
            #expect(page.body.contains(#"<td><a href="/queues/reports">reports</a></td><td>paused</td><td><a href="/queues/reports/jobs?state=waiting">1</a></td>"#), "\(page)")
        }
    }

    @Test("a queue page shows counts, workers, job schedulers and limits")
    func queuePage() async throws {
        try await withDashboard("work") { dashboard, work, client in
            try await work.add("a")
            try await work.setGlobalConcurrency(3)
            try await work.upsertJobScheduler("nightly", repeat: .cron("0 3 * * *"), template: .init(name: "cleanup"))
            var settings = client.configuration
            settings.clientName = work.keys.workerClientName(workerName: "box-7")
            let named = try await RedisClient.connect(settings)
            defer { Task { await named.close() } }
            _ = try await named.send(RedisCommand("PING"))
            let page = try await dashboard.get("/queues/work")
            #expect(page.status == 200, "\(page)")
            #expect(page.body.contains(#"id="queue-status">running<"#))
            #expect(page.body.contains(#"data-state="waiting"><b>2</b>waiting"#) || page.body.contains(#"data-state="waiting"><b>1</b>waiting"#), "\(page)")
            #expect(page.body.contains("<td>box-7</td>"), "\(page)")
            #expect(page.body.contains("<td>Global concurrency</td><td>3</td>"), "\(page)")
            #expect(page.body.contains("<td>nightly</td><td>cleanup</td><td>0 3 * * *</td>"), "\(page)")
            #expect(page.body.contains(#"action="/queues/work/pause""#))
        }
    }

    @Test("a jobs page pages through a state, newest first, and searches by id, name and failure reason")
    func jobsPage() async throws {
        try await withDashboard("bulk") { dashboard, bulk, _ in
            for index in 1...120 {
                try await bulk.add(index % 3 == 0 ? "resize-image" : "send-mail", data: ["n": .int(Int64(index))])
            }
            let first = try await dashboard.get("/queues/bulk/jobs?state=waiting")
            #expect(first.status == 200, "\(first)")
            #expect(first.body.components(separatedBy: #"<tr><td><a href="/queues/bulk/jobs/"#).count - 1 == 50)
            #expect(first.body.contains(#"<a href="/queues/bulk/jobs/120">120</a>"#))
            #expect(!first.body.contains(#"<a href="/queues/bulk/jobs/70">70</a>"#))
            #expect(first.body.contains("Looked at jobs 1–50 of 120."), "\(first)")
            #expect(first.body.contains(#"href="/queues/bulk/jobs?state=waiting&amp;offset=50">older ▸</a>"#), "\(first)")
            let third = try await dashboard.get("/queues/bulk/jobs?state=waiting&offset=100")
            #expect(third.body.contains(#"<a href="/queues/bulk/jobs/1">1</a>"#))
            #expect(!third.body.contains("older ▸"))
            // By name: 40 of the 120 are resize-image.
            let named = try await dashboard.get("/queues/bulk/jobs?state=waiting&name=RESIZE")
            #expect(named.body.components(separatedBy: "<td>resize-image</td>").count - 1 == 40, "\(named)")
            #expect(!named.body.contains("<td>send-mail</td>"))
            #expect(named.body.contains("40 matched"))
            // By id: straight to the job page.
            let byId = try await dashboard.get("/queues/bulk/jobs?state=waiting&id=77")
            #expect(byId.status == 303 && byId.headers["location"] == "/queues/bulk/jobs/77", "\(byId)")
            let missing = try await dashboard.get("/queues/bulk/jobs?id=9999")
            #expect(missing.status == 404)
            // By failure reason (in a queue of its own, so that the failing worker takes no other job).
            let charges = try Queue("charges", client: bulk.client)
            try await charges.add("charge", options: .init(jobId: "f1"))
            try await failJob(charges, "f1", reason: "card declined by issuer")
            try await charges.add("charge", options: .init(jobId: "f2"))
            try await failJob(charges, "f2", reason: "timeout talking to the bank")
            let declined = try await dashboard.get("/queues/charges/jobs?state=failed&reason=declined")
            #expect(declined.body.contains(#"<a href="/queues/charges/jobs/f1">f1</a>"#), "\(declined)")
            #expect(!declined.body.contains(#"<a href="/queues/charges/jobs/f2">f2</a>"#))
            #expect(declined.body.contains("card declined by issuer"))
        }
    }

    @Test("a job page shows data, options, failure with stack trace, logs, progress, attempts and its children")
    func jobPage() async throws {
        try await withDashboard("jobs") { dashboard, jobs, client in
            let tree = try await FlowProducer(client: client).add(FlowJob(
                "bundle", queue: "jobs", data: ["order": 42], options: .init(jobId: "parent"),
                children: [FlowJob("pick", queue: "jobs", data: ["sku": "X-1"], options: .init(jobId: "child"))]))
            #expect(tree.job.id == "parent")
            try await jobs.updateJobProgress("child", ["done": 40])
            try await jobs.addJobLog("child", "picked <shelf 3>")
            try await failJob(jobs, "child", reason: "scanner offline")
            let child = try await dashboard.get("/queues/jobs/jobs/child")
            #expect(child.status == 200, "\(child)")
            #expect(child.body.contains(#"<span id="job-state"><span class="state state-failed">failed</span></span>"#), "\(child)")
            #expect(child.body.contains("&quot;sku&quot; : &quot;X-1&quot;") || child.body.contains("&quot;sku&quot;: &quot;X-1&quot;"), "\(child)")
            #expect(child.body.contains(#"<pre id="failure">scanner offline</pre>"#))
            #expect(child.body.contains(#"<pre id="stacktrace">StackedFailure: scanner offline</pre>"#), "\(child)")
            #expect(child.body.contains("picked &lt;shelf 3&gt;"), "log lines are escaped: \(child)")
            #expect(child.body.contains("<td>Progress</td><td>{&quot;done&quot;:40}</td>"), "\(child)")
            #expect(child.body.contains("<td>Attempts</td><td>1 made"), "\(child)")
            #expect(child.body.contains(#"<td>Parent</td><td><a href="/queues/jobs/jobs/parent">jobs:parent</a></td>"#), "\(child)")
            #expect(child.body.contains(#"action="/queues/jobs/jobs/child/retry""#))
            let parent = try await dashboard.get("/queues/jobs/jobs/parent")
            #expect(parent.body.contains(#"<a href="/queues/jobs/jobs/child">jobs:child</a>"#), "\(parent)")
            #expect(parent.body.contains("<h2>Options</h2>"))
            let gone = try await dashboard.get("/queues/jobs/jobs/nope")
            #expect(gone.status == 404)
        }
    }

    @Test("assets are served by the binary; unknown paths are 404")
    func assets() async throws {
        try await withDashboard { dashboard, _, _ in
            let css = try await dashboard.get("/assets/dashboard.css")
            #expect(css.status == 200 && css.headers["content-type"] == "text/css; charset=utf-8")
            #expect(css.body.contains(".state-failed"))
            let script = try await dashboard.get("/assets/dashboard.js")
            #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
            #expect(script.body.contains("data-live"))
            let icon = try await dashboard.get("/assets/icon.svg")
            #expect(icon.status == 200 && icon.headers["content-type"] == "image/svg+xml" && icon.body.hasPrefix("<svg"))
            #expect(try await dashboard.get("/favicon.ico").status == 200)
            #expect(try await dashboard.get("/assets/nothing.js").status == 404)
            #expect(try await dashboard.get("/no/such/page").status == 404)
            let page = try await dashboard.get("/")
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "no external asset: \(page)")
        }
    }
}

/// Fails a waiting job for good, as a worker would: takes it with a one-job worker that throws.
func failJob(_ queue: Queue, _ id: String, reason: String) async throws {
    let failure = StackedFailure(reason: reason)
    try await queue.client.send(RedisCommand("HSET", .string(queue.keys.job(id)), "failOnPurpose", "1"))
    let worker = try Worker(queue: queue.name, client: queue.client) { job in
        if job.fields["failOnPurpose"] == "1" { throw failure }
        throw UnrecoverableError("not this job")
    }
    try await withWorkers([worker]) {
        let failed = try await eventually { try await queue.getState(id) == .failed }
        #expect(failed, "job \(id) of \(queue.name) failed")
    }
}

struct StackedFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
