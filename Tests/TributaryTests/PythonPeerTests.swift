// Ground truth: what Python bullmq 3.4.4 (redis-py 8.1, redis-server 7.0.15) writes, as observed by these tests.
// Tributary's Lua scripts must store the same keys, fields, encodings and scores. Prefix `bull`, queue `Q`.
//
// Adding (Queue.add / addBulk):
// - Auto ids come from `INCR bull:Q:id` ("1", "2", ...). The counter is incremented for custom ids too.
//   Python accepts an integer-looking custom id such as "12" (Node's Job.validateOptions rejects it).
// - New job hash: exactly name, data, opts, timestamp, delay, priority (plus parentKey/parent for flow children).
//   delay/priority are decimal strings ("0" when unset); timestamp is ms since the epoch.
// - data is Python's json.dumps(separators=(',', ':')): ASCII-only (é -> \u00e9, astral chars as surrogate
//   pairs), floats in Python form (2.0 stays "2.0", 1e-7 becomes "1e-07"), ints of any size (a 20-digit int is
//   written as-is, which jansson rejects as "too big integer").
// - opts is cjson.encode of the msgpacked options: Python always adds "attempts":0 and "delay":0 when unset,
//   turns backoff N into {"type":"fixed","delay":N}, shortens long names (de, fpof, cpof, idof, rdof, kl: read in its
//   encodeOpts, not exercised here), and the key order is cjson's (Lua table order), not the caller's. Observed:
//     plain        {"delay":0,"attempts":0}
//     delay        {"timestamp":T,"delay":5000,"attempts":0}       (timestamp only when passed explicitly)
//     priority     {"priority":2,"delay":0,"attempts":0}
//     retries      {"backoff":{"delay":1000,"type":"exponential"},"delay":0,"attempts":3}
//     backoff 500  {"backoff":{"delay":500,"type":"fixed"},"delay":0,"attempts":2}
//     lifo + id    {"jobId":"custom-1","lifo":true,"delay":0,"attempts":0}
// - FIFO: LPUSH bull:Q:wait; lifo: RPUSH. ZADD bull:Q:marker 0 "0" for wait and prioritized jobs.
// - Delayed: ZADD bull:Q:delayed readyAt*4096+seq, readyAt = timestamp+delay; seq is 0, or one more than the
//   highest score already stored for the same readyAt ms (it is NOT derived from the job id). The marker gets
//   member "1" scored with the earliest delayed readyAt (min score / 4096, replaced on every delayed add);
//   no "0" member. Event `delayed` carries delay = readyAt (a timestamp, not the delay).
// - Prioritized: ZADD bull:Q:prioritized priority*2^32 + INCR(bull:Q:pc); pc stays at the counter value.
// - bull:Q:meta holds only opts.maxLenEvents = "10000" (no `version` field is written).
// - Events: added {jobId, name} (XADD without MAXLEN), then waiting {jobId} for wait and prioritized jobs, or
//   delayed {jobId, delay} for delayed jobs.
//
// Processing (Worker):
// - Completed hash gains processedOn, ats "1", atm "1", returnvalue (Python JSON text), finishedOn;
//   bull:Q:completed score = finishedOn; no lock or active entries remain; marker keeps "0" score 0.
// - Failed for good: failedReason, stacktrace (JSON array of Python tracebacks, one per failed attempt), atm = ats
//   = attempts; bull:Q:failed score = finishedOn. A retry without backoff emits waiting {prev: active}; with
//   backoff, delayed {delay: readyAt}. A job that fails then succeeds keeps failedReason and stacktrace.
// - Stream entries, fields in this order: active {jobId, prev: waiting}; completed {jobId, returnvalue, prev:
//   active}; failed {jobId, failedReason, prev: active}; retries-exhausted {jobId, attemptsMade}; drained {} once
//   wait, active and prioritized are all empty after a job finishes.
//
// Flows (FlowProducer.add): ids are uuid4().hex (32 hex digits); parent in waiting-children (score = timestamp)
// with `<parent>:dependencies` = child job keys; child hash has parentKey "bull:P:<pid>", parent
// {"id":pid,"queueKey":"bull:P"} and opts {"parent":{"id":pid,"queue":"bull:P"},"delay":0,"attempts":0}.
//
// Peer quirk: a Python worker rounds its BZPOPMIN timeout up to whole seconds, so backoffs and delays shorter
// than 1 s take about 1 s to be picked up by an otherwise idle Python worker.

import Foundation
import Testing
import Tributary

/// Proves the Python peer harness works and pins down Python bullmq 3.4.4's on-Redis layout (see the list above).
@Suite("Python peer")
struct PythonPeerTests {
    /// Python adds one job (over the unix socket); the raw hash, counters, lists, marker, meta and events are checked.
    @Test("a plain job: id from INCR, exact hash fields and encodings, wait list, marker, meta and events")
    func plainJob() async throws {
        try await withPeer { server, peer, redis in
            let before = Self.nowMilliseconds()
            // Raw JSON text, so Python sees the float 2.0 (Tributary would serialize it as 2).
            let dataText = #"{"x":1,"f":0.1,"whole":2.0,"e":1e-7,"s":"é"}"#
            let data = try JSONValue.parse(dataText)
            // Over the unix socket, to prove redis-py's unix:// URLs work.
            let ids = try await peer.run("add", redisURL: server.unixURL, queue: "q",
                                         ["--jobs", #"[{"name":"plain","data":\#(dataText)}]"#])
            let after = Self.nowMilliseconds()
            #expect(ids == [["id": "1"]])
            let hash = try await redis.hash("bull:q:1")
            #expect(Set(hash.keys) == ["name", "data", "opts", "timestamp", "delay", "priority"])
            #expect(hash["name"] == "plain")
            #expect(hash["data"] == #"{"x":1,"f":0.1,"whole":2.0,"e":1e-07,"s":"\u00e9"}"#)
            #expect(try JSONValue.parse(hash["data"] ?? "") == data)
            #expect(hash["opts"] == #"{"delay":0,"attempts":0}"#)
            #expect(hash["delay"] == "0" && hash["priority"] == "0")
            let timestamp = Int64(hash["timestamp"] ?? "") ?? 0
            #expect(timestamp >= before && timestamp <= after)
            #expect(try await redis.string("bull:q:id") == "1")
            #expect(try await redis.list("bull:q:wait") == ["1"])
            #expect(try await redis.zset("bull:q:marker") == [ZEntry("0", 0)])
            #expect(try await redis.hash("bull:q:meta") == ["opts.maxLenEvents": "10000"])
            #expect(try await redis.stream("bull:q:events").map(\.fields) == [
                ["event", "added", "jobId", "1", "name", "plain"], ["event", "waiting", "jobId", "1"],
            ])
            let job = try #require(try await peer.job(id: "1", redisURL: server.tcpURL, queue: "q"))
            #expect(job["state"] == "waiting" && job["data"] == data && job["timestamp"]?.intValue == timestamp)
            #expect(try await peer.job(id: "404", redisURL: server.tcpURL, queue: "q") == Optional<JSONValue>.none)
        }
    }

    /// addBulk with FIFO, LIFO and custom ids: wait-list order and the id counter.
    @Test("FIFO, LIFO and custom ids: LPUSH/RPUSH order and INCR even for custom ids")
    func waitListOrder() async throws {
        try await withPeer { server, peer, redis in
            let ids = try await peer.addJobs([
                PeerJob("a"), PeerJob("b"), PeerJob("c", opts: ["lifo": true, "jobId": "custom-1"]), PeerJob("d", opts: ["jobId": "12"]),
            ], redisURL: server.tcpURL, queue: "q", bulk: true)
            #expect(ids == ["1", "2", "custom-1", "12"])
            #expect(try await redis.list("bull:q:wait") == ["12", "2", "1", "custom-1"])
            #expect(try await redis.string("bull:q:id") == "4")
            #expect(try await redis.hash("bull:q:custom-1")["opts"] == #"{"jobId":"custom-1","lifo":true,"delay":0,"attempts":0}"#)
        }
    }

    /// Delayed jobs with fixed timestamps, so every score and the marker are exact.
    @Test("delayed jobs: score readyAt*4096+seq, marker member 1 at the earliest readyAt, delayed event")
    func delayedJobs() async throws {
        try await withPeer { server, peer, redis in
            let t: Int64 = 1_700_000_000_000
            let ids = try await peer.addJobs([
                PeerJob("d1", opts: ["delay": 5000, "timestamp": .int(t)]),
                PeerJob("d2", opts: ["delay": 5000, "timestamp": .int(t)]),
                PeerJob("d3", opts: ["delay": 3000, "timestamp": .int(t)]),
                PeerJob("d4", opts: ["delay": 60_000]),
            ], redisURL: server.tcpURL, queue: "q")
            #expect(ids == ["1", "2", "3", "4"])
            let natural = try await redis.hash("bull:q:4")
            let readyAt4 = (Int64(natural["timestamp"] ?? "") ?? 0) + 60_000
            #expect(try await redis.zset("bull:q:delayed") == [
                ZEntry("3", (t + 3000) * 4096), ZEntry("1", (t + 5000) * 4096), ZEntry("2", (t + 5000) * 4096 + 1),
                ZEntry("4", readyAt4 * 4096),
            ])
            #expect(try await redis.zset("bull:q:marker") == [ZEntry("1", t + 3000)])
            let first = try await redis.hash("bull:q:1")
            #expect(first["delay"] == "5000" && first["timestamp"] == String(t) && first["priority"] == "0")
            #expect(first["opts"] == #"{"timestamp":1700000000000,"delay":5000,"attempts":0}"#)
            #expect(natural["opts"] == #"{"delay":60000,"attempts":0}"#)
            #expect(try await redis.exists("bull:q:wait") == false)
            let events = try await redis.stream("bull:q:events").map(\.fields)
            #expect(events.prefix(2) == [["event", "added", "jobId", "1", "name", "d1"],
                                         ["event", "delayed", "jobId", "1", "delay", String(t + 5000)]])
            #expect(try await peer.counts(redisURL: server.tcpURL, queue: "q")["delayed"] == 4)
        }
    }

    /// Prioritized jobs: scores, the pc counter and the marker.
    @Test("prioritized jobs: score priority*2^32 + pc counter, pc key, marker 0")
    func prioritizedJobs() async throws {
        try await withPeer { server, peer, redis in
            _ = try await peer.addJobs([PeerJob("p2", opts: ["priority": 2]), PeerJob("p1", opts: ["priority": 1])],
                                       redisURL: server.tcpURL, queue: "q")
            #expect(try await redis.zset("bull:q:prioritized") == [ZEntry("2", (1 << 32) + 2), ZEntry("1", (2 << 32) + 1)])
            #expect(try await redis.string("bull:q:pc") == "2")
            #expect(try await redis.zset("bull:q:marker") == [ZEntry("0", 0)])
            #expect(try await redis.exists("bull:q:wait") == false)
            let hash = try await redis.hash("bull:q:1")
            #expect(hash["priority"] == "2" && hash["opts"] == #"{"priority":2,"delay":0,"attempts":0}"#)
            #expect(try await redis.stream("bull:q:events").map { $0.fields[1] } == ["added", "waiting", "added", "waiting"])
            let counts = try await peer.counts(redisURL: server.tcpURL, queue: "q")
            #expect(counts["prioritized"] == 2 && counts["waiting"] == 0)
        }
    }

    /// The opts JSON text for attempts/backoff and remove options.
    @Test("attempts and backoff: the exact opts JSON text Python stores")
    func retryOptions() async throws {
        try await withPeer { server, peer, redis in
            _ = try await peer.addJobs([
                PeerJob("exp", opts: ["attempts": 3, "backoff": ["type": "exponential", "delay": 1000]]),
                PeerJob("fixed", opts: ["attempts": 2, "backoff": 500]),
                PeerJob("keep", opts: ["removeOnComplete": ["age": 3600, "count": 10], "removeOnFail": true]),
            ], redisURL: server.tcpURL, queue: "q")
            #expect(try await redis.hash("bull:q:1")["opts"] == #"{"backoff":{"delay":1000,"type":"exponential"},"delay":0,"attempts":3}"#)
            #expect(try await redis.hash("bull:q:2")["opts"] == #"{"backoff":{"delay":500,"type":"fixed"},"delay":0,"attempts":2}"#)
            let keep = try JSONValue.parse(try await redis.hash("bull:q:3")["opts"] ?? "")
            #expect(keep["removeOnComplete"] == ["age": 3600, "count": 10] && keep["removeOnFail"] == true)
        }
    }

    /// A Python worker completes three jobs; results, hash fields, completed set and counts are checked.
    @Test("a Python worker completes Python-added jobs: return values, hash fields, completed set, counts")
    func workerCompletes() async throws {
        try await withPeer { server, peer, redis in
            let jobs = (1...3).map { PeerJob("job\($0)", data: ["i": .int(Int64($0))]) }
            let ids = try await peer.addJobs(jobs, redisURL: server.tcpURL, queue: "q", bulk: true)
            let result = try await peer.work(redisURL: server.tcpURL, queue: "q", count: 3)
            #expect(result.failed.isEmpty)
            #expect(result.completed.map(\.id) == ids)
            #expect(result.completed.map(\.returnvalue) == (1...3).map {
                ["by": "python", "name": .string("job\($0)"), "data": ["i": .int(Int64($0))], "attempt": 0]
            })
            var finished: [ZEntry] = []
            for index in 1...3 {
                let hash = try await redis.hash("bull:q:\(index)")
                #expect(Set(hash.keys) == ["name", "data", "opts", "timestamp", "delay", "priority", "processedOn",
                                           "ats", "atm", "returnvalue", "finishedOn"])
                #expect(hash["returnvalue"] == #"{"by":"python","name":"job\#(index)","data":{"i":\#(index)},"attempt":0}"#)
                #expect(hash["atm"] == "1" && hash["ats"] == "1")
                let processedOn = Int64(hash["processedOn"] ?? "") ?? 0, finishedOn = Int64(hash["finishedOn"] ?? "") ?? 0
                #expect(processedOn > 0 && finishedOn >= processedOn)
                finished.append(ZEntry(String(index), finishedOn))
            }
            #expect(try await redis.zset("bull:q:completed").sorted { $0.member < $1.member } == finished)
            #expect(try await redis.zset("bull:q:marker") == [ZEntry("0", 0)])
            #expect(try await redis.exists("bull:q:active") == false)
            #expect(try await redis.keys("bull:q:*") == ["bull:q:1", "bull:q:2", "bull:q:3", "bull:q:completed",
                                                          "bull:q:events", "bull:q:id", "bull:q:marker", "bull:q:meta"])
            let counts = try await peer.counts(redisURL: server.tcpURL, queue: "q")
            #expect(counts == ["waiting": 0, "active": 0, "completed": 3, "failed": 0, "delayed": 0, "prioritized": 0,
                               "waiting-children": 0, "paused": 0])
            let outcome = try await peer.waitFinished(ids: ids, redisURL: server.tcpURL, queue: "q")
            #expect(outcome["2"] == PeerFinishedJob(state: "completed", returnvalue: result.completed[1].returnvalue, failedReason: nil))
        }
    }

    /// A Python worker fails a job for good and retries a flaky one into success.
    @Test("failures: exhausted attempts fail with Python's message; a flaky job keeps failedReason after succeeding")
    func workerFails() async throws {
        try await withPeer { server, peer, redis in
            _ = try await peer.addJobs([PeerJob("boom", opts: ["attempts": 2]), PeerJob("flaky", opts: ["attempts": 3])],
                                       redisURL: server.tcpURL, queue: "q")
            let result = try await peer.work(redisURL: server.tcpURL, queue: "q", count: 2, failNames: ["boom"])
            #expect(result.failed == [.init(id: "1", name: "boom", failedReason: "python failure boom", attemptsMade: 2)])
            #expect(result.completed.map(\.id) == ["2"])
            let boom = try await redis.hash("bull:q:1")
            #expect(boom["failedReason"] == "python failure boom" && boom["atm"] == "2" && boom["ats"] == "2")
            #expect(boom["returnvalue"] == nil)
            let traces = try JSONValue.parse(boom["stacktrace"] ?? "").arrayValue ?? []
            #expect(traces.count == 2 && traces.allSatisfy { $0.stringValue?.hasSuffix("Exception: python failure boom\n") == true })
            #expect(try await redis.zset("bull:q:failed") == [ZEntry("1", Int64(boom["finishedOn"] ?? "") ?? -1)])
            let events = try await redis.stream("bull:q:events").map(\.fields).filter { $0.count > 3 && $0[3] == "1" }
            #expect(events.map { $0[1] } == ["added", "waiting", "active", "waiting", "active", "failed", "retries-exhausted"])
            #expect(events[3] == ["event", "waiting", "jobId", "1", "prev", "active"])
            #expect(events[5] == ["event", "failed", "jobId", "1", "failedReason", "python failure boom", "prev", "active"])
            #expect(events[6] == ["event", "retries-exhausted", "jobId", "1", "attemptsMade", "2"])

            // Fails once, then succeeds: the returned attempt is 1 and failedReason survives completion.
            _ = try await peer.addJobs([PeerJob("flaky", opts: ["attempts": 3])], redisURL: server.tcpURL, queue: "q")
            let retried = try await peer.work(redisURL: server.tcpURL, queue: "q", count: 1, failNames: ["flaky"], failTimes: 1)
            #expect(retried.completed.first?.returnvalue["attempt"] == 1)
            let flaky = try await redis.hash("bull:q:3")
            #expect(flaky["atm"] == "2" && flaky["failedReason"] == "python failure flaky" && flaky["returnvalue"] != nil)
        }
    }

    /// The full events stream of one job processed by Python.
    @Test("events stream: the exact entries Python writes for one job, including the completed entry layout")
    func eventsStream() async throws {
        try await withPeer { server, peer, redis in
            _ = try await peer.addJobs([PeerJob("solo", data: ["k": "v"])], redisURL: server.tcpURL, queue: "q")
            _ = try await peer.work(redisURL: server.tcpURL, queue: "q", count: 1)
            let entries = try await redis.stream("bull:q:events")
            #expect(entries.map(\.fields) == [
                ["event", "added", "jobId", "1", "name", "solo"],
                ["event", "waiting", "jobId", "1"],
                ["event", "active", "jobId", "1", "prev", "waiting"],
                ["event", "completed", "jobId", "1", "returnvalue", #"{"by":"python","name":"solo","data":{"k":"v"},"attempt":0}"#,
                 "prev", "active"],
                ["event", "drained"],
            ])
            #expect(entries.allSatisfy { $0.id.wholeMatch(of: /\d{13}-\d+/) != nil })
        }
    }

    /// A Python flow across two queues, its Redis layout, and its processing by Python workers.
    @Test("a Python flow: uuid hex ids, waiting-children, dependencies and the child's parent fields")
    func flowLayout() async throws {
        try await withPeer { server, peer, redis in
            let tree: JSONValue = ["name": "report", "data": ["r": 1], "children": [
                ["name": "part", "queueName": "kids", "data": ["n": 1]], ["name": "part", "queueName": "kids", "data": ["n": 2]],
            ]]
            let root = try await peer.flow(tree, redisURL: server.tcpURL, queue: "parents")
            #expect(root.id.wholeMatch(of: /[0-9a-f]{32}/) != nil && root.queue == "parents")
            #expect(root.children.map(\.queue) == ["kids", "kids"])
            let parentKey = "bull:parents:\(root.id)"
            let timestamp = try await redis.hash(parentKey)["timestamp"] ?? ""
            #expect(try await redis.zset("bull:parents:waiting-children") == [ZEntry(root.id, Int64(timestamp) ?? -1)])
            #expect(Set(try await redis.members(parentKey + ":dependencies")) == Set(root.children.map { "bull:kids:\($0.id)" }))
            let child = try await redis.hash("bull:kids:\(root.children[0].id)")
            #expect(child["parentKey"] == parentKey)
            #expect(child["parent"] == #"{"id":"\#(root.id)","queueKey":"bull:parents"}"#)
            #expect(child["opts"] == #"{"parent":{"id":"\#(root.id)","queue":"bull:parents"},"delay":0,"attempts":0}"#)

            _ = try await peer.work(redisURL: server.tcpURL, queue: "kids", count: 2)
            let processed = try await redis.hash(parentKey + ":processed")
            #expect(processed["bull:kids:\(root.children[1].id)"] == #"{"by":"python","name":"part","data":{"n":2},"attempt":0}"#)
            let parent = try await peer.work(redisURL: server.tcpURL, queue: "parents", count: 1)
            #expect(parent.completed.map(\.id) == [root.id])
        }
    }

    /// PythonPeer reports the peer's timeout and its input errors as PythonPeerError.
    @Test("harness errors: the peer's own timeout (exit 3) and bad input both throw with stderr")
    func harnessErrors() async throws {
        try await withPeer { server, peer, _ in
            let error = await #expect(throws: PythonPeerError.self) {
                try await peer.work(redisURL: server.tcpURL, queue: "empty", count: 1, timeout: .seconds(1))
            }
            #expect(error?.isTimeout == true)
            #expect(error?.description.contains("work timed out after 1.0s") == true)
            let invalid = await #expect(throws: PythonPeerError.self) {
                try await peer.run("add", redisURL: server.tcpURL, queue: "q", ["--jobs", "[{"])
            }
            #expect(invalid?.isTimeout == false)
            #expect(invalid?.description.contains("--jobs: invalid JSON") == true)
        }
    }

    // MARK: Helpers

    /// Milliseconds since the epoch, as Python's `round(time.time() * 1000)` would report them.
    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// Locates the peer, starts a private redis-server and a raw client for inspecting it, and runs `body`.
    func withPeer(_ body: (TestRedisServer, PythonPeer, RedisInspector) async throws -> Void) async throws {
        let peer = try PythonPeer.locate()
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.tcpURL)
            do {
                try await body(server, peer, RedisInspector(client: client))
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        }
    }
}
