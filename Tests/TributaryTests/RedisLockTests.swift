import Synchronization
import Testing
@testable import Tributary

/// RedisLock: one holder at a time, renewed while held, released only by its holder, always released by withLock.
@Suite("Redis lock")
struct RedisLockTests {
    @Test("two contenders: only one runs the section; the other gets nil; the key is gone afterwards")
    func oneOfTwo() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let ran = Counter()
            let gauge = Gauge()
            let contender: @Sendable () async throws -> String? = {
                try await RedisLock(key: "app:lock:report", client: client, ttl: .seconds(5)).withLock { _ in
                    gauge.enter()
                    _ = ran.increment()
                    try await Task.sleep(for: .milliseconds(500))
                    gauge.leave()
                    return "ran"
                }
            }
            let results = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask { try await contender() }
                group.addTask { try await contender() }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(results.compactMap { $0 } == ["ran"])
            #expect(ran.current == 1 && gauge.peak == 1)
            #expect(try await client.send(RedisCommand("EXISTS", "app:lock:report")).int == 0)
        }
    }

    @Test("a contender that waits gets the lock once the holder releases it")
    func waitingContender() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let order = Mutex<[String]>([])
            // A long ttl: on a starved machine a short one can expire while the holder sleeps (that is the lock
            // working as designed, not what this test is about).
            let lock = RedisLock(key: "app:lock:w", client: client, ttl: .seconds(120))
            async let holder: String? = lock.withLock { _ in
                order.withLock { $0.append("holder in") }
                try await Task.sleep(for: .milliseconds(400))
                order.withLock { $0.append("holder out") }
                return "holder"
            }
            #expect(try await eventually(.seconds(60)) { order.withLock { $0.contains("holder in") } })
            let waiter = try await lock.withLock(waitingUpTo: .seconds(120), retryEvery: .milliseconds(50)) { _ in
                order.withLock { $0.append("waiter in") }
                return "waiter"
            }
            #expect(try await holder == "holder" && waiter == "waiter")
            #expect(order.withLock { $0 } == ["holder in", "holder out", "waiter in"])
        }
    }

    @Test("the lease is renewed while held: a lock that ages is brought back to its full ttl")
    func renewal() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            // A 30 s lock is renewed every 10 s. The section makes the lock look 10 s older (PTTL 20 s) and waits for
            // a renewal to bring it back to 30 s: no wall-clock margin, only a generous upper bound.
            let lock = RedisLock(key: "app:lock:long", client: client, ttl: .seconds(30))
            let result = try await lock.withLock { lease in
                try await client.send(RedisCommand("PEXPIRE", "app:lock:long", "20000"))
                let renewed = try await eventually(.seconds(60)) {
                    (try await client.send(RedisCommand("PTTL", "app:lock:long")).int ?? 0) > 25_000
                }
                // Still ours: the key carries this lease's token.
                let holder = try await client.send(RedisCommand("GET", "app:lock:long")).string
                return renewed && holder == lease.token && !lease.isLost
            }
            #expect(result == true)
            #expect(try await client.send(RedisCommand("EXISTS", "app:lock:long")).int == 0)
        }
    }

    @Test("release is compare-and-delete: a holder whose lock was taken over does not delete the new holder's lock")
    func releaseOnlyByOwner() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let lock = RedisLock(key: "app:lock:cad", client: client, ttl: .seconds(30))
            let lease = try #require(try await lock.acquire())
            // The lock expires and another instance takes it.
            try await client.send(RedisCommand("SET", "app:lock:cad", "someone-else"))
            #expect(try await !lease.release())
            #expect(try await !lease.extend() && lease.isLost)
            #expect(try await client.send(RedisCommand("GET", "app:lock:cad")).string == "someone-else")
        }
    }

    @Test("withLock releases when the section throws, and cancels the section (error lost) when the lock is taken over")
    func releaseOnErrorAndLoss() async throws {
        try await withQueue { (_: Queue, client: RedisClient, _: TestRedisServer) async throws in
            let lock = RedisLock(key: "app:lock:err", client: client, ttl: .seconds(5))
            await #expect(throws: TestFailure.self) {
                _ = try await lock.withLock { _ -> Int in throw TestFailure("boom") }
            }
            #expect(try await client.send(RedisCommand("EXISTS", "app:lock:err")).int == 0)

            let short = RedisLock(key: "app:lock:lost", client: client, ttl: .milliseconds(600))
            let cancelled = Mutex(false)
            let error = await #expect(throws: RedisLockError.self) {
                _ = try await short.withLock { _ -> Int in
                    try await client.send(RedisCommand("SET", "app:lock:lost", "intruder"))
                    do {
                        try await Task.sleep(for: .seconds(30))
                    } catch {
                        cancelled.withLock { $0 = true }
                        throw error
                    }
                    return 1
                }
            }
            #expect(error?.code == .lost)
            #expect(cancelled.withLock { $0 })
            #expect(try await client.send(RedisCommand("GET", "app:lock:lost")).string == "intruder")
        }
    }
}

/// How many callers are inside a section, and the most there ever were.
final class Gauge: Sendable {
    private let state = Mutex((now: 0, peak: 0))
    func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}
