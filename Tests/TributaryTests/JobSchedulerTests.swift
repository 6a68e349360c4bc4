import Foundation
import Synchronization
import Testing
@testable import Tributary

@Suite("Job schedulers")
struct JobSchedulerTests {
    @Test("an every scheduler stores BullMQ's hash and set, and queues repeat:<id>:<slot> with rjk")
    func upsertEvery() async throws {
        try await withQueue { queue, client, _ in
            let before = EpochClock.milliseconds()
            let job = try #require(try await queue.upsertJobScheduler(
                "tick", repeat: .every(.seconds(60)),
                template: .init(name: "heartbeat", data: ["n": 1], options: .init(attempts: 2))))
            let slot = try #require(Int64(job.id.split(separator: ":").last!))
            #expect(job.id == "repeat:tick:\(slot)")
            #expect(slot >= before && slot <= EpochClock.milliseconds())
            #expect(job.name == "heartbeat" && job.data == ["n": 1] && job.fields["rjk"] == "tick")
            let opts = try JSONValue.parse(try #require(job.fields["opts"]))
            #expect(opts["repeat"] == ["every": 60000, "count": 1])
            #expect(opts["repeatJobKey"] == "tick" && opts["jobId"] == .string(job.id) && opts["attempts"] == 2)
            let hash = try await hashFields(client, "bull:jobs:repeat:tick")
            #expect(hash["name"] == "heartbeat" && hash["every"] == "60000" && hash["ic"] == "1")
            #expect(hash["data"] == #"{"n":1}"# && hash["opts"] == #"{"attempts":2}"#)
            #expect(hash["offset"] == String(slot % 60000))
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:repeat", "tick")).string == String(slot))
            #expect(try await queue.getState(job.id) == .waiting)  // the first slot is now

            let scheduler = try #require(try await queue.getJobScheduler("tick"))
            #expect(scheduler.next == slot && scheduler.every == 60000 && scheduler.iterationCount == 1)
            #expect(scheduler.templateData == ["n": 1] && scheduler.templateOptions == ["attempts": 2])
            #expect(try await queue.getJobSchedulersCount() == 1)
            #expect(try await queue.getJobScheduler("nope") == nil)
        }
    }

    @Test("upserting again replaces the pending iteration and keeps its slot; a new interval starts over")
    func upsertAgain() async throws {
        try await withQueue { queue, client, _ in
            let start = EpochClock.milliseconds() + 3_600_000
            let first = try #require(try await queue.upsertJobScheduler(
                "s", repeat: RepeatOptions(every: .seconds(10), startDate: start), template: .init(data: ["v": 1])))
            #expect(first.id == "repeat:s:\(start)")
            #expect(try await queue.getState(first.id) == .delayed)
            let second = try #require(try await queue.upsertJobScheduler(
                "s", repeat: RepeatOptions(every: .seconds(10), startDate: start), template: .init(data: ["v": 2])))
            #expect(second.id == first.id && second.data == ["v": 2])
            #expect(try await client.send(RedisCommand("ZCARD", "bull:jobs:delayed")).int == 1)
            let third = try #require(try await queue.upsertJobScheduler("s", repeat: .every(.seconds(20))))
            #expect(third.id != first.id)
            #expect(try await queue.getJob(first.id) == nil)
            #expect(try await client.send(RedisCommand("ZCARD", "bull:jobs:delayed")).int ?? 0 <= 1)
        }
    }

    @Test("a pattern scheduler's slot is the pattern's next time in its zone")
    func upsertPattern() async throws {
        try await withQueue { queue, _, _ in
            let job = try #require(try await queue.upsertJobScheduler(
                "monthly", repeat: .cron("0 3 1 * *", timeZone: "Europe/Berlin")))
            let slot = try #require(Int64(job.id.split(separator: ":").last!))
            let expected = try CronExpression("0 3 1 * *").next(after: job.timestamp,
                                                                 in: try #require(TimeZone(identifier: "Europe/Berlin")))
            #expect(slot == expected)
            #expect(try await queue.getState(job.id) == .delayed)
            let scheduler = try #require(try await queue.getJobScheduler("monthly"))
            #expect(scheduler.pattern == "0 3 1 * *" && scheduler.timeZone == "Europe/Berlin" && scheduler.name == "monthly")
            let now = try #require(try await queue.upsertJobScheduler(
                "now", repeat: RepeatOptions(pattern: "0 3 1 * *", immediately: true)))
            #expect(try await queue.getState(now.id) == .waiting)
        }
    }

    @Test("a slot taken by another job is refused with BullMQ's collision code, and nothing changes")
    func collision() async throws {
        try await withQueue { queue, client, _ in
            let job = try #require(try await queue.upsertJobScheduler("c", repeat: .cron("0 0 1 1 *")))
            // The iteration finished (or was moved away) but its hash is still there.
            _ = try await client.send(RedisCommand("ZREM", "bull:jobs:delayed", .string(job.id)))
            _ = try await client.send(RedisCommand("ZADD", "bull:jobs:completed", 1, .string(job.id)))
            await #expect(throws: QueueError.self) {
                try await queue.upsertJobScheduler("c", repeat: .cron("0 0 1 1 *"))
            }
            do {
                try await queue.upsertJobScheduler("c", repeat: .cron("0 0 1 1 *"))
            } catch let error as QueueError {
                #expect(error.code == .schedulerSlotTaken)
                #expect(error.message.contains("-10"))
            }
            #expect(try await queue.getJobScheduler("c")?.iterationCount == 1)
        }
    }

    @Test("bad options are refused before anything is stored")
    func validation() async throws {
        try await withQueue { queue, client, _ in
            #expect(await Self.upsertMessage(queue, "x", RepeatOptions(), .init()) == "repeat: give a pattern (cron) or every (an interval)")
            #expect(await Self.upsertMessage(queue, "x", RepeatOptions(pattern: "* * * * *", every: .seconds(1)), .init()) == "repeat: give either pattern or every, not both")
            #expect(await Self.upsertMessage(queue, "x", .cron("0 24 * * *"), .init()) == "repeat.pattern: cron pattern '0 24 * * *': hour: 24 is out of range 0-23")
            #expect(await Self.upsertMessage(queue, "x", .cron("0 2 * * *", timeZone: "Mars/Olympus"), .init()).hasPrefix("repeat.tz 'Mars/Olympus' is not a time zone"))
            #expect(await Self.upsertMessage(queue, "x", RepeatOptions(every: .microseconds(1500)), .init()).hasPrefix("repeat.every must be a whole number"))
            #expect(await Self.upsertMessage(queue, "x", RepeatOptions(pattern: "* * * * *", startDate: 1, immediately: true), .init()) == "repeat: immediately and startDate cannot both be given")
            #expect(await Self.upsertMessage(queue, "x", .every(.seconds(1)), .init(options: .init(jobId: "mine"))).hasPrefix("template: jobId, delay and timestamp"))
            #expect(await Self.upsertMessage(queue, "a:b", .every(.seconds(1)), .init()) == "job scheduler id 'a:b' must be non-empty and must not contain ':'")
            #expect(await Self.upsertMessage(queue, "x", RepeatOptions(every: .seconds(1), endDate: 1_000), .init()) == "stored" )
            let count = try await queue.getJobSchedulersCount()
            #expect(count == 0)  // the end date had passed: nothing stored
            #expect(try await client.send(RedisCommand("DBSIZE")).int == 0)
        }
    }

    @Test("a slot waiting for a delayed job blocks on Redis until 100 ms before it is due, then sleeps the rest")
    func markerWait() {
        let drain = Duration.seconds(5)
        // Redis times a BZPOPMIN out on its 100 ms cron tick: blocking until the due time started jobs up to 100 ms
        // late (bench P8: p50 46 ms, p99 98 ms).
        #expect(Worker.markerWait(nextDelayedAt: 10_000, now: 9_000, drainDelay: drain)
                == .init(block: .milliseconds(900), dueAt: 10_000))
        #expect(Worker.markerWait(nextDelayedAt: 10_000, now: 9_950, drainDelay: drain) == .init(block: nil, dueAt: 10_000))
        #expect(Worker.markerWait(nextDelayedAt: 10_000, now: 10_500, drainDelay: drain) == .init(block: nil, dueAt: 10_000))
        #expect(Worker.markerWait(nextDelayedAt: 0, now: 9_000, drainDelay: drain) == .init(block: drain, dueAt: nil))
        #expect(Worker.markerWait(nextDelayedAt: 60_000, now: 9_000, drainDelay: drain) == .init(block: drain, dueAt: nil))
    }

    /// What an upsert says: "stored", or the error's message.
    static func upsertMessage(_ queue: Queue, _ id: String, _ options: RepeatOptions, _ template: JobTemplate) async -> String {
        do {
            try await queue.upsertJobScheduler(id, repeat: options, template: template)
            return "stored"
        } catch let error as QueueError { return error.message } catch { return "\(error)" }
    }

    @Test("removing a scheduler removes its delayed iteration; removing it again reports none")
    func remove() async throws {
        try await withQueue { queue, client, _ in
            let job = try #require(try await queue.upsertJobScheduler("r", repeat: .cron("0 0 1 1 *")))
            #expect(try await queue.removeJobScheduler("r"))
            #expect(try await queue.getJob(job.id) == nil)
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:repeat:r")).int == 0)
            #expect(try await queue.getJobSchedulersCount() == 0)
            #expect(try await queue.removeJobScheduler("r") == false)
        }
    }

    @Test("workers run each slot once and queue the next: two racing workers, every 300 ms, limit 5")
    func workersAdvance() async throws {
        try await withQueue { queue, client, _ in
            let seen = Mutex<[String]>([])
            let handler: Worker.Handler = { job in
                seen.withLock { $0.append(job.id) }
                return .null
            }
            let workers = try (0..<2).map { _ in
                try Worker(queue: "jobs", client: client, options: .init(concurrency: 2), handler: handler)
            }
            let runners = workers.map { worker in Task { try await worker.run() } }
            try await queue.upsertJobScheduler("fast", repeat: RepeatOptions(every: .milliseconds(300), limit: 5),
                                               template: .init(name: "fast"))
            let done = try await eventually(.seconds(60)) { seen.withLock { $0.count } >= 5 }
            // No sixth iteration: the limit stops the scheduler (a sixth would be due 300 ms after the fifth).
            try await Task.sleep(for: .milliseconds(900))
            for worker in workers { await worker.close() }
            for runner in runners { try await runner.value }
            #expect(done)
            let ids = seen.withLock { $0 }
            #expect(ids.count == 5 && Set(ids).count == 5)
            let slots = ids.compactMap { Int64($0.split(separator: ":").last!) }.sorted()
            // Slots stay on the interval's grid (a late worker skips slots rather than drifting).
            for (earlier, later) in zip(slots, slots.dropFirst()) { #expect(later > earlier && (later - earlier) % 300 == 0) }
            #expect(try await queue.getJobScheduler("fast")?.iterationCount == 5)
            #expect(try await client.send(RedisCommand("ZCARD", "bull:jobs:completed")).int == 5)
        }
    }

    @Test("a removed scheduler stops: its worker queues nothing more")
    func removedStops() async throws {
        try await withQueue { queue, client, _ in
            let seen = Mutex(0)
            let worker = try Worker(queue: "jobs", client: client) { _ in
                seen.withLock { $0 += 1 }
                return .null
            }
            let runner = Task { try await worker.run() }
            try await queue.upsertJobScheduler("stop", repeat: .every(.milliseconds(200)))
            #expect(try await eventually(.seconds(60)) { seen.withLock { $0 } >= 2 })
            try await queue.removeJobScheduler("stop")
            let atRemoval = seen.withLock { $0 }
            try await Task.sleep(for: .milliseconds(800))
            await worker.close()
            try await runner.value
            // At most the iteration already waiting when the scheduler was removed ran after it.
            #expect(seen.withLock { $0 } <= atRemoval + 1)
            #expect(try await client.send(RedisCommand("ZCARD", "bull:jobs:delayed")).int == 0)
        }
    }
}
