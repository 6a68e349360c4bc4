import NIOConcurrencyHelpers

/// Sends a worker's `moveToFinished` calls, and finishes the jobs whose completions arrive together in one call.
///
/// A finish sent while no other is in flight goes out at once, on the caller's task, as its own call: an idle or
/// lightly loaded worker pays nothing for batching. Finishes that arrive while a call is in flight wait and go out
/// together in the next call (at most ``maxJobs``), in arrival order. A script call costs Redis a fixed amount
/// (the EVALSHA and the definitions of the script's functions, about 61,000 instructions of the 340,000 a plain
/// job costs, see docs/performance.md), which a batch shares.
final class FinishBatcher: Sendable {
    /// Sends one call for `count` jobs whose arguments are `arguments`, back to back.
    typealias Send = @Sendable (_ arguments: [RedisArgument], _ count: Int) async throws -> RESPValue

    /// The most jobs finished in one call (a call blocks Redis while it runs: about 40 µs per job).
    static let maxJobs = 32

    private struct Waiting {
        let arguments: [RedisArgument]
        let continuation: CheckedContinuation<RESPValue, any Error>
    }

    private struct State {
        var busy = false
        var waiting: [Waiting] = []
    }

    private let state = NIOLockedValueBox(State())
    private let send: Send

    /// Creates a batcher that sends its calls with `send`.
    init(send: @escaping Send) {
        self.send = send
    }

    /// Finishes one job (its `moveToFinished` arguments) and returns the script's reply for it.
    func finish(_ arguments: [RedisArgument]) async throws -> RESPValue {
        let leads = state.withLockedValue { state in
            if state.busy { return false }
            state.busy = true
            return true
        }
        guard leads else {
            return try await withCheckedThrowingContinuation { continuation in
                let startDrain = state.withLockedValue { state in
                    state.waiting.append(Waiting(arguments: arguments, continuation: continuation))
                    if state.busy { return false }
                    // The call in flight returned in between and nobody drains: this finish starts it.
                    state.busy = true
                    return true
                }
                if startDrain { Task { await self.drain() } }
            }
        }
        let result: Result<RESPValue, any Error>
        do {
            result = .success(try await send(arguments, 1))
        } catch {
            result = .failure(error)
        }
        let drainNext = state.withLockedValue { state in
            if state.waiting.isEmpty {
                state.busy = false
                return false
            }
            return true
        }
        if drainNext { Task { await self.drain() } }
        return try result.get()
    }

    /// Sends the waiting finishes, a batch at a time, until none waits.
    private func drain() async {
        while true {
            let batch: [Waiting] = state.withLockedValue { state in
                if state.waiting.isEmpty {
                    state.busy = false
                    return []
                }
                let count = min(Self.maxJobs, state.waiting.count)
                let batch = Array(state.waiting.prefix(count))
                state.waiting.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            do {
                let reply = try await send(batch.flatMap(\.arguments), batch.count)
                if batch.count == 1 {
                    batch[0].continuation.resume(returning: reply)
                } else if case .array(let replies) = reply, replies.count == batch.count {
                    for (waiting, reply) in zip(batch, replies) { waiting.continuation.resume(returning: reply) }
                } else {
                    let error = QueueError(.unexpectedScriptResult,
                                           "moveToFinished for \(batch.count) jobs returned \(reply)")
                    for waiting in batch { waiting.continuation.resume(throwing: error) }
                }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
