import Synchronization
import Testing
@testable import Tributary

/// Job schedulers shared by Tributary and Python bullmq 3.4.4, in both directions.
@Suite("Interop: job schedulers with Python bullmq")
struct InteropSchedulerTests {
    func withPeer(_ body: (TestRedisServer, RedisClient, PythonPeer) async throws -> Void) async throws {
        try await InteropTests().withPeer(body)
    }

    /// A JSON value with every object's keys sorted, for comparisons that ignore key order.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(uniqueKeysWithValues: object.keys.sorted().map { ($0, canonical(object[$0]!)) }))
        case .array(let items): return .array(items.map(canonical))
        default: return value
        }
    }

    /// How many iteration jobs of a scheduler exist (each one created stays: nothing removes them in these tests).
    static func iterationsCreated(_ client: RedisClient, queue: String, scheduler: String) async throws -> Int {
        let keys = try await client.send(RedisCommand("KEYS", .string("bull:\(queue):repeat:\(scheduler):*"))).array ?? []
        return keys.compactMap(\.string).filter { Int64($0.split(separator: ":").last ?? "") != nil }.count
    }

    /// The slot (ms) of an iteration id `repeat:<id>:<slot>`.
    static func slot(_ jobId: String) -> Int64? {
        jobId.hasPrefix("repeat:") ? Int64(jobId.split(separator: ":").last ?? "") : nil
    }

    @Test("schedulers upserted by Python: Tributary workers run their iterations and queue the next ones")
    func pythonSchedulesTributaryRuns() async throws {
        try await withPeer { server, client, peer in
            let url = server.tcpURL
            let first = try #require(try await peer.upsertScheduler(
                "py-every", repeat: ["every": 400], name: "tick", data: ["n": 1], opts: ["attempts": 2],
                redisURL: url, queue: "sched"))
            #expect(Self.slot(first) != nil)
            _ = try await peer.upsertScheduler(
                "py-cron", repeat: ["pattern": "* * * * * *", "tz": "America/New_York", "limit": 3], name: "cron",
                data: ["n": 2], redisURL: url, queue: "sched")
            let runs = Mutex<[(id: String, name: String, data: JSONValue)]>([])
            let worker = try Worker(queue: "sched", client: client, options: .init(concurrency: 2)) { job in
                runs.withLock { $0.append((job.id, job.name, job.data)) }
                return ["by": "tributary"]
            }
            let runner = Task { try await worker.run() }
            let enough = try await eventually(.seconds(40)) {
                runs.withLock { list in
                    list.filter { $0.name == "tick" }.count >= 4 && list.filter { $0.name == "cron" }.count >= 3
                }
            }
            try await Task.sleep(for: .milliseconds(1500))  // room for a fourth cron iteration, which must not come
            await worker.close()
            try await runner.value
            #expect(enough)
            let all = runs.withLock { $0 }
            let ticks = all.filter { $0.name == "tick" }
            let crons = all.filter { $0.name == "cron" }
            #expect(ticks.allSatisfy { $0.id.hasPrefix("repeat:py-every:") && $0.data == ["n": 1] })
            #expect(crons.allSatisfy { $0.id.hasPrefix("repeat:py-cron:") && $0.data == ["n": 2] })
            #expect(crons.count == 3)  // Python's limit, honoured by Tributary's worker
            let cronSlots = crons.compactMap { Self.slot($0.id) }
            #expect(cronSlots.allSatisfy { $0 % 1000 == 0 } && Set(cronSlots).count == 3)
            let tickSlots = ticks.compactMap { Self.slot($0.id) }.sorted()
            #expect(Set(tickSlots).count == tickSlots.count)
            for slot in tickSlots { #expect((slot - tickSlots[0]) % 400 == 0) }
            // The iteration count Python's upsert started, moved on by Tributary: listed the same from both sides.
            let tributary = try await Queue("sched", client: client).getJobSchedulers()
            let python = try await peer.schedulers(redisURL: url, queue: "sched")
            #expect(python.count == 2 && tributary.count == 2)
            #expect(python.list.map(Self.canonical) == tributary.map { Self.canonical($0.json) })
            let every = try #require(tributary.first { $0.id == "py-every" })
            #expect(every.iterationCount == (try await Self.iterationsCreated(client, queue: "sched", scheduler: "py-every")))
            #expect(every.iterationCount ?? 0 > ticks.count)  // the next one is queued
        }
    }

    @Test("schedulers upserted by Tributary: a Python worker runs and advances them; both list the same fields")
    func tributarySchedulesPythonRuns() async throws {
        try await withPeer { server, client, peer in
            let url = server.tcpURL
            let queue = try Queue("sched", client: client)
            try await queue.upsertJobScheduler(
                "sw-every", repeat: .every(.milliseconds(500)),
                template: .init(name: "tick", data: ["from": "swift"], options: .init(attempts: 3)))
            try await queue.upsertJobScheduler(
                "sw-cron", repeat: RepeatOptions(pattern: "*/2 * * * * *", timeZone: "Europe/Berlin", limit: 2),
                template: .init(name: "cron"))
            let result = try await peer.work(redisURL: url, queue: "sched", count: 5, concurrency: 2,
                                             timeout: .seconds(40))
            let names = result.completed.map(\.name)
            #expect(names.filter { $0 == "cron" }.count <= 2 && names.filter { $0 == "tick" }.count >= 3)
            for job in result.completed {
                #expect(job.id.hasPrefix(job.name == "tick" ? "repeat:sw-every:" : "repeat:sw-cron:"))
                if job.name == "tick" { #expect(job.returnvalue["data"] == ["from": "swift"]) }
            }
            // Python's worker queued the next iterations through Tributary's records.
            let tributary = try await queue.getJobSchedulers()
            let python = try await peer.schedulers(redisURL: url, queue: "sched")
            #expect(python.list.map(Self.canonical) == tributary.map { Self.canonical($0.json) })
            let every = try #require(tributary.first { $0.id == "sw-every" })
            let ticks = names.filter { $0 == "tick" }.count
            #expect(every.iterationCount == (try await Self.iterationsCreated(client, queue: "sched", scheduler: "sw-every")))
            #expect(every.iterationCount ?? 0 > ticks)
            #expect(every.templateOptions == ["attempts": 3] && every.every == 500)
            // Python removes a Tributary scheduler; Tributary sees it gone.
            #expect(try await peer.removeScheduler("sw-every", redisURL: url, queue: "sched") == 0)
            #expect(try await queue.getJobScheduler("sw-every") == nil)
        }
    }

    @Test("the same settings upserted from each side store the same scheduler fields and iteration options")
    func sameLayout() async throws {
        try await withPeer { server, client, peer in
            let url = server.tcpURL
            let queue = try Queue("sched", client: client)
            let repeatJSON: JSONValue = ["pattern": "0 30 2 * * 1-5", "tz": "Europe/Berlin", "limit": 10,
                                         "endDate": 4_102_444_800_000]
            let pythonJob = try #require(try await peer.upsertScheduler(
                "py", repeat: repeatJSON, name: "report", data: ["k": "v"], opts: ["attempts": 4], redisURL: url, queue: "sched"))
            let swiftJob = try #require(try await queue.upsertJobScheduler(
                "sw", repeat: RepeatOptions(pattern: "0 30 2 * * 1-5", timeZone: "Europe/Berlin", limit: 10,
                                            endDate: 4_102_444_800_000),
                template: .init(name: "report", data: ["k": "v"], options: .init(attempts: 4))))
            // Both computed the same next slot.
            #expect(Self.slot(pythonJob) == Self.slot(swiftJob.id))
            let pythonHash = try await hashFields(client, "bull:sched:repeat:py")
            let swiftHash = try await hashFields(client, "bull:sched:repeat:sw")
            #expect(pythonHash == swiftHash)
            let pythonFields = try await hashFields(client, "bull:sched:\(pythonJob)")
            let swiftFields = try await hashFields(client, "bull:sched:\(swiftJob.id)")
            #expect(Set(pythonFields.keys) == Set(swiftFields.keys))
            for field in ["name", "data", "priority"] { #expect(pythonFields[field] == swiftFields[field], "\(field)") }
            // The delays differ by the time between the two upserts: both run to the same slot.
            let pythonEnd = Int64(pythonFields["timestamp"] ?? "")! + Int64(pythonFields["delay"] ?? "")!
            let swiftEnd = Int64(swiftFields["timestamp"] ?? "")! + Int64(swiftFields["delay"] ?? "")!
            #expect(pythonEnd == Self.slot(pythonJob) && swiftEnd == Self.slot(swiftJob.id))
            #expect(pythonFields["rjk"] == "py" && swiftFields["rjk"] == "sw")
            var pythonOpts = try JSONValue.parse(try #require(pythonFields["opts"])).objectValue ?? [:]
            var swiftOpts = try JSONValue.parse(try #require(swiftFields["opts"])).objectValue ?? [:]
            for key in ["jobId", "repeatJobKey", "timestamp", "delay", "prevMillis"] {
                #expect(pythonOpts.removeValue(forKey: key) != nil, "\(key)")
                #expect(swiftOpts.removeValue(forKey: key) != nil, "\(key)")
            }
            #expect(Self.canonical(.object(pythonOpts)) == Self.canonical(.object(swiftOpts)))
        }
    }
}
