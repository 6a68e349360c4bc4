import Testing
@testable import Tributary

private typealias S = AdminTestSupport

/// Actions on one job by id: retry, promote, remove, data, progress, logs, priority, delay.
@Suite("Job actions")
struct JobActionsTests {
    @Test("retryJob: a failed job goes back to wait without its result fields; reset options clear the counters")
    func retry() async throws {
        try await S.withQueue { queue, client, _ in
            let job = try await queue.add("flaky")
            try await S.finish(client, job.id, failed: true, at: EpochClock.milliseconds())
            try await queue.retryJob(job.id)
            #expect(try await queue.getState(job.id) == .waiting)
            let fields = try await S.hash(client, job.key)
            #expect(fields["failedReason"] == nil && fields["finishedOn"] == nil && fields["processedOn"] == nil)
            #expect(fields["atm"] == "1" && fields["ats"] == "1")
            let last = try #require(try await S.events(client).last)
            #expect(last["event"] == "waiting" && last["jobId"] == job.id && last["prev"] == "failed")
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:marker", "0")).string == "0")

            #expect(await S.throwsQueueError(.jobNotInState, containing: ["retry job \(job.id)", "it is waiting, not failed"]) {
                try await queue.retryJob(job.id)
            })
            #expect(await S.throwsQueueError(.jobNotFound, containing: ["job nope", "does not exist"]) {
                try await queue.retryJob("nope")
            })

            let done = try await queue.add("done", options: .init(lifo: true))
            try await S.finish(client, done.id, failed: false, at: EpochClock.milliseconds())
            try await queue.retryJob(done.id, state: .completed, resetAttemptsMade: true, resetAttemptsStarted: true)
            let reset = try await S.hash(client, done.key)
            #expect(reset["returnvalue"] == nil && reset["atm"] == nil && reset["ats"] == nil)
            // lifo: pushed to the end workers take next.
            #expect(try await S.list(client, "bull:jobs:wait").last == done.id)
        }
    }

    @Test("retryJob puts a child back among its parent's pending dependencies")
    func retryChild() async throws {
        try await S.withQueue { queue, client, _ in
            let parent = try await queue.add("parent")
            let child = try await S.addChild(queue, client, name: "child", parentKey: parent.key)
            let childKey = "bull:jobs:\(child)"
            // As if the child had completed: its result recorded in the parent.
            try await client.send(RedisCommand("SREM", .string(parent.key + ":dependencies"), .string(childKey)))
            try await client.send(RedisCommand("HSET", .string(parent.key + ":processed"), .string(childKey), "42"))
            try await S.finish(client, child, failed: false, at: EpochClock.milliseconds())
            try await queue.retryJob(child, state: .completed)
            #expect(try await client.send(RedisCommand("SISMEMBER", .string(parent.key + ":dependencies"), .string(childKey))) == .integer(1))
            #expect(try await client.send(RedisCommand("HEXISTS", .string(parent.key + ":processed"), .string(childKey))) == .integer(0))
        }
    }

    @Test("promoteJob: delayed to wait (or prioritized) with delay 0; a job that is not delayed is refused")
    func promote() async throws {
        try await S.withQueue { queue, client, _ in
            let job = try await queue.add("later", options: .init(delay: .seconds(3600)))
            let urgent = try await queue.add("later", options: .init(delay: .seconds(3600), priority: 2))
            try await queue.promoteJob(job.id)
            try await queue.promoteJob(urgent.id)
            #expect(try await S.list(client, "bull:jobs:wait") == [job.id])
            #expect(try await queue.getState(urgent.id) == .prioritized)
            #expect(try await S.hash(client, job.key)["delay"] == "0")
            let promoted = try await S.events(client).filter { $0["event"] == "waiting" && $0["prev"] == "delayed" }
            #expect(promoted.compactMap { $0["jobId"] } == [job.id, urgent.id])
            #expect(await S.throwsQueueError(.jobNotInState, containing: ["promote job \(job.id)", "it is waiting, not delayed"]) {
                try await queue.promoteJob(job.id)
            })
        }
    }

    @Test("removeJob deletes the job and its logs from any state, emits removed with prev, and refuses locked jobs")
    func remove() async throws {
        try await S.withQueue { queue, client, _ in
            let waiting = try await queue.add("w")
            try await queue.addJobLog(waiting.id, "line")
            let delayed = try await queue.add("d", options: .init(delay: .seconds(60)))
            let done = try await queue.add("c")
            try await S.finish(client, done.id, failed: false, at: EpochClock.milliseconds())

            #expect(try await queue.removeJob(waiting.id))
            #expect(try await queue.removeJob(delayed.id))
            #expect(try await queue.removeJob(done.id))
            #expect(try await client.send(RedisCommand("EXISTS", .string(waiting.key), .string(waiting.key + ":logs"))) == .integer(0))
            let counts = try await queue.getJobCounts()
            #expect(counts.waiting == 0 && counts.delayed == 0 && counts.completed == 0)
            let removed = try await S.events(client).filter { $0["event"] == "removed" }
            #expect(removed.map { $0["prev"] } == ["wait", "delayed", "completed"])
            #expect(removed.map { $0["jobId"] } == [waiting.id, delayed.id, done.id])
            #expect(try await !queue.removeJob("missing"))

            let busy = try await queue.add("busy")
            try await client.send(RedisCommand("RPOPLPUSH", "bull:jobs:wait", "bull:jobs:active"))
            try await client.send(RedisCommand("SET", .string(busy.key + ":lock"), "token", "PX", 60_000))
            #expect(await S.throwsQueueError(.jobLocked, containing: ["remove job \(busy.id)", "lock"]) {
                try await queue.removeJob(busy.id)
            })
            #expect(try await queue.getState(busy.id) == .active)
            // Once the lock is gone (a stalled job), it can be removed.
            try await client.send(RedisCommand("DEL", .string(busy.key + ":lock")))
            #expect(try await queue.removeJob(busy.id))
            #expect(try await S.list(client, "bull:jobs:active").isEmpty)
        }
    }

    @Test("removing a parent's last pending child moves the parent to wait")
    func removeLastChild() async throws {
        try await S.withQueue { queue, client, _ in
            let parent = try await queue.add("parent")
            let first = try await S.addChild(queue, client, name: "a", parentKey: parent.key)
            let second = try await S.addChild(queue, client, name: "b", parentKey: parent.key)
            try await queue.removeJob(first)
            #expect(try await queue.getState(parent.id) == .waitingChildren)
            try await queue.removeJob(second)
            #expect(try await queue.getState(parent.id) == .waiting)
            let events = try await S.events(client).suffix(2).map { [$0["event"], $0["jobId"], $0["prev"]] }
            #expect(events == [["waiting", parent.id, "waiting-children"], ["removed", second, "wait"]])
        }
    }

    @Test("updateJobData and updateJobProgress store JSON; progress is announced with its data")
    func dataAndProgress() async throws {
        try await S.withQueue { queue, client, _ in
            let job = try await queue.add("report", data: ["rows": 1])
            try await queue.updateJobData(job.id, data: ["rows": 2, "note": "é"])
            #expect(try await queue.getJob(job.id)?.data == ["rows": 2, "note": "é"])
            try await queue.updateJobProgress(job.id, ["done": 40, "of": 100])
            #expect(try await S.hash(client, job.key)["progress"] == #"{"done":40,"of":100}"#)
            #expect(try await queue.getJob(job.id)?.progress == ["done": 40, "of": 100])
            let last = try #require(try await S.events(client).last)
            #expect(last["event"] == "progress" && last["jobId"] == job.id && last["data"] == #"{"done":40,"of":100}"#)
            try await queue.updateJobProgress(job.id, 75)
            #expect(try await S.hash(client, job.key)["progress"] == "75")

            #expect(await S.throwsQueueError(.jobNotFound, containing: ["job gone"]) {
                try await queue.updateJobData("gone", data: [:])
            })
            #expect(await S.throwsQueueError(.jobNotFound, containing: ["progress", "job gone"]) {
                try await queue.updateJobProgress("gone", 1)
            })
            #expect(try await client.send(RedisCommand("EXISTS", "bull:jobs:gone")) == .integer(0))
        }
    }

    @Test("job logs: appended in order, trimmed to keepLogs, read in ranges either way with the total count")
    func logs() async throws {
        try await S.withQueue { queue, client, _ in
            let job = try await queue.add("chatty")
            for index in 1...5 {
                #expect(try await queue.addJobLog(job.id, "line \(index)") == index)
            }
            #expect(try await S.list(client, job.key + ":logs") == (1...5).map { "line \($0)" })
            let all = try await queue.getJobLogs(job.id)
            #expect(all.logs == (1...5).map { "line \($0)" } && all.count == 5)
            let firstTwo = try await queue.getJobLogs(job.id, start: 0, end: 1)
            #expect(firstTwo.logs == ["line 1", "line 2"] && firstTwo.count == 5)
            let newestTwo = try await queue.getJobLogs(job.id, start: 0, end: 1, ascending: false)
            #expect(newestTwo.logs == ["line 5", "line 4"])

            #expect(try await queue.addJobLog(job.id, "line 6", keepLogs: 3) == 3)
            #expect(try await queue.getJobLogs(job.id).logs == ["line 4", "line 5", "line 6"])
            let none = try await queue.getJobLogs("nobody")
            #expect(none.logs.isEmpty && none.count == 0)
            #expect(await S.throwsQueueError(.jobNotFound, containing: ["job nobody"]) {
                try await queue.addJobLog("nobody", "x")
            })
        }
    }

    @Test("changeJobPriority moves waiting and prioritized jobs as BullMQ does; other states keep their place")
    func changePriority() async throws {
        try await S.withQueue { queue, client, _ in
            let a = try await queue.add("a")
            let b = try await queue.add("b", options: .init(priority: 5))
            let c = try await queue.add("c", options: .init(priority: 5))
            let base: Int64 = 4_294_967_296

            try await queue.changeJobPriority(a.id, priority: 5)
            #expect(try await S.list(client, "bull:jobs:wait").isEmpty)
            // After b and c (counter 1, 2): counter 3.
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:prioritized", .string(a.id))).string == String(5 * base + 3))
            #expect(try await S.hash(client, a.key)["priority"] == "5")

            try await queue.changeJobPriority(c.id, priority: 5, lifo: true)
            #expect(try await S.zset(client, "bull:jobs:prioritized") == [c.id, b.id, a.id])

            try await queue.changeJobPriority(b.id, priority: 0)
            try await queue.changeJobPriority(c.id, priority: 0, lifo: true)
            // b FIFO at the head, c LIFO at the tail (taken next).
            #expect(try await S.list(client, "bull:jobs:wait") == [b.id, c.id])

            let later = try await queue.add("later", options: .init(delay: .seconds(60)))
            try await queue.changeJobPriority(later.id, priority: 9)
            #expect(try await queue.getState(later.id) == .delayed)
            #expect(try await S.hash(client, later.key)["priority"] == "9")

            await #expect(throws: QueueError.self) { try await queue.changeJobPriority(a.id, priority: -1) }
            #expect(await S.throwsQueueError(.jobNotFound, containing: ["priority", "job x"]) {
                try await queue.changeJobPriority("x", priority: 1)
            })
        }
    }

    @Test("changeJobDelay reschedules a delayed job from now and emits delayed; other states are refused")
    func changeDelay() async throws {
        try await S.withQueue { queue, client, _ in
            let job = try await queue.add("later", options: .init(delay: .seconds(3600)))
            let before = EpochClock.milliseconds()
            try await queue.changeJobDelay(job.id, delay: .seconds(10))
            let after = EpochClock.milliseconds()
            let score = try #require(try await client.send(RedisCommand("ZSCORE", "bull:jobs:delayed", .string(job.id))).int)
            #expect(((before + 10_000)...(after + 10_000)).contains(Int64(score / 0x1000)))
            #expect(try await S.hash(client, job.key)["delay"] == "10000")
            let last = try #require(try await S.events(client).last)
            #expect(last["event"] == "delayed" && last["delay"] == String(score / 0x1000))
            #expect(try await client.send(RedisCommand("ZSCORE", "bull:jobs:marker", "1")).int == score / 0x1000)

            let waiting = try await queue.add("now")
            #expect(await S.throwsQueueError(.jobNotInState, containing: ["job \(waiting.id)", "it is waiting, not delayed"]) {
                try await queue.changeJobDelay(waiting.id, delay: .seconds(1))
            })
        }
    }
}
