import NIOConcurrencyHelpers

/// A lock in Redis for work that must run once across instances: a nightly report that every replica's timer
/// triggers, a migration on startup, a cache rebuild. Whoever sets the key first runs the critical section; the
/// others skip it (or wait for it, with `waitingUpTo`).
///
/// ```swift
/// let lock = RedisLock(key: "myapp:lock:nightly-report", client: client, ttl: .seconds(30))
/// let ran = try await lock.withLock { lease in
///     try await buildNightlyReport()
/// }
/// if ran == nil { logger.info("another instance is building the report") }
/// ```
///
/// How it holds:
/// - The key is set with `SET key token NX PX ttl`: one holder at a time, and a holder that dies (crash, lost
///   network) frees the lock after `ttl`.
/// - While the section runs, the lease is renewed every third of `ttl`, only while the key still carries the
///   holder's token (a compare-and-renew script), so a long section keeps the lock.
/// - It is released by compare-and-delete: a holder whose lock expired (a long pause) cannot delete the lock
///   another holder took since.
/// - ``withLock(waitingUpTo:retryEvery:_:)`` always releases, whether the section returns, throws or is
///   cancelled. If the lock is lost while the section runs (renewal found another token, or Redis was unreachable
///   past the ttl), the section is cancelled and ``RedisLockError`` `lost` is thrown.
///
/// One Redis server is the lock's source of truth (no Redlock across several masters).
public struct RedisLock: Sendable {
    /// The lock key.
    public let key: String
    /// The connection used to take, renew and release the lock.
    public let client: RedisClient
    /// How long the lock lasts without renewal; the time others wait after a holder dies.
    public let ttl: Duration

    /// Creates a lock handle; nothing is sent until it is acquired.
    public init(key: String, client: RedisClient, ttl: Duration = .seconds(30)) {
        self.key = key
        self.client = client
        self.ttl = ttl
    }

    /// Tries to take the lock, retrying every `retryEvery` for up to `wait` (once when `wait` is zero).
    ///
    /// - Returns: the lease, or `nil` when another holder kept the lock all along. Release the lease yourself
    ///   (``Lease/release()``), or prefer ``withLock(waitingUpTo:retryEvery:_:)``.
    /// - Throws: ``RedisLockError`` `invalidTTL` for a ttl below 3 ms; Redis errors.
    public func acquire(waitingUpTo wait: Duration = .zero, retryEvery: Duration = .milliseconds(100)) async throws -> Lease? {
        guard ttl.milliseconds >= 3 else {
            throw RedisLockError(.invalidTTL, "lock \(key): the ttl must be at least 3 ms (got \(ttl))")
        }
        let token = RandomID.hex32()
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        while true {
            let reply = try await client.send(RedisCommand(
                "SET", .string(key), .string(token), "NX", "PX", .integer(ttl.milliseconds)))
            if case .simpleString = reply { return Lease(lock: self, token: token) }
            guard clock.now < deadline else { return nil }
            try await Task.sleep(for: min(retryEvery, deadline - clock.now))
        }
    }

    /// Runs `body` while holding the lock, renewing it as long as `body` runs, and releases it afterwards in every
    /// case.
    ///
    /// - Returns: what `body` returned, or `nil` when the lock could not be taken within `wait` (another instance
    ///   is running the section).
    /// - Throws: what `body` threw; ``RedisLockError`` `lost` when the lock was lost while `body` ran (`body` is
    ///   cancelled then); Redis errors while acquiring.
    public func withLock<T: Sendable>(waitingUpTo wait: Duration = .zero, retryEvery: Duration = .milliseconds(100),
                                      _ body: @escaping @Sendable (Lease) async throws -> T) async throws -> T? {
        guard let lease = try await acquire(waitingUpTo: wait, retryEvery: retryEvery) else { return nil }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await lease.hold(body))
        } catch {
            outcome = .failure(error)
        }
        // Released from a task of its own, so that a cancelled caller still releases.
        _ = try? await Task { try await lease.release() }.value
        return try outcome.get()
    }

    /// A held lock: its token, renewal and release.
    public final class Lease: Sendable {
        /// The lock this lease holds.
        public let lock: RedisLock
        /// The random token stored in the lock key while this lease holds it.
        public let token: String
        private let lost = NIOLockedValueBox(false)

        init(lock: RedisLock, token: String) {
            self.lock = lock
            self.token = token
        }

        /// Whether a renewal found the lock gone or taken by another holder.
        public var isLost: Bool { lost.withLockedValue { $0 } }

        /// Renews the lock for another ttl, if this lease still holds it.
        ///
        /// - Returns: whether it still held it (if not, ``isLost`` becomes true).
        @discardableResult
        public func extend() async throws -> Bool {
            let script = QueueScripts.redisLockExtend
            let reply = try await lock.client.run(
                script.script, keys: [lock.key], arguments: [.string(token), .integer(lock.ttl.milliseconds)])
            let held = reply.int == 1
            if !held { lost.withLockedValue { $0 = true } }
            return held
        }

        /// Releases the lock if this lease still holds it (compare and delete).
        ///
        /// - Returns: whether it was still held.
        @discardableResult
        public func release() async throws -> Bool {
            let script = QueueScripts.redisLockRelease
            let reply = try await lock.client.run(script.script, keys: [lock.key], arguments: [.string(token)])
            return reply.int == 1
        }

        /// Runs `body`, renewing every third of the ttl; cancels it and throws `lost` when a renewal fails for good.
        func hold<T: Sendable>(_ body: @escaping @Sendable (Lease) async throws -> T) async throws -> T {
            let interval = Duration.milliseconds(max(lock.ttl.milliseconds / 3, 1))
            return try await withThrowingTaskGroup(of: Step<T>.self) { group in
                group.addTask { .finished(try await body(self)) }
                group.addTask {
                    try await self.renew(every: interval)
                    return .renewalStopped
                }
                defer { group.cancelAll() }
                while let step = try await group.next() {
                    if case .finished(let value) = step { return value }
                }
                throw CancellationError()
            }
        }

        private enum Step<T: Sendable>: Sendable {
            case finished(T)
            case renewalStopped
        }

        /// Renews until cancelled; throws `lost` once the lock is no longer this lease's, or once renewals have
        /// failed (Redis unreachable) for longer than the ttl.
        private func renew(every interval: Duration) async throws {
            let clock = ContinuousClock()
            var lastRenewal = clock.now
            while true {
                try await Task.sleep(for: interval)
                do {
                    if try await extend() {
                        lastRenewal = clock.now
                    } else {
                        throw RedisLockError(.lost, "lock \(lock.key) was lost: it expired or another holder took it")
                    }
                } catch let error as RedisLockError {
                    throw error
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    if clock.now - lastRenewal >= lock.ttl {
                        lost.withLockedValue { $0 = true }
                        throw RedisLockError(.lost, "lock \(lock.key) was lost: it could not be renewed for \(lock.ttl) (\(error))")
                    }
                }
            }
        }
    }
}

/// An error of a ``RedisLock``.
public struct RedisLockError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }
        /// The lock expired or another holder took it while the section ran; the section was cancelled.
        public static let lost = Code("lost")
        /// The ttl is too short to renew.
        public static let invalidTTL = Code("invalidTTL")
    }

    /// What went wrong, for a program to match on.
    public let code: Code
    /// What went wrong, for a person.
    public let message: String

    /// An error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
