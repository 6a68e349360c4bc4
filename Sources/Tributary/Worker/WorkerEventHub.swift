import NIOConcurrencyHelpers

/// Carries a worker's events to the consumer of ``Worker/events``, and costs next to nothing while there is none.
///
/// The stream is made when `events` is first read, and events are produced from then on; before that, and after
/// the task iterating it is cancelled, an event is neither built nor buffered (`yield` takes it as an
/// autoclosure). A busy worker nobody listens to used to spend about a tenth of its CPU buffering events for no one.
final class WorkerEventHub: Sendable {
    /// The newest events kept for a consumer that falls behind.
    static let bufferSize = 1000

    private struct State {
        var stream: AsyncStream<WorkerEvent>?
        var continuation: AsyncStream<WorkerEvent>.Continuation?
        /// Counts subscriptions, so that the end of an old one does not detach a newer one.
        var generation = 0
        /// The worker's run is over: every stream handed out from now on is already finished.
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// The events stream: the current one until its consumer's task is cancelled, then a new one.
    var stream: AsyncStream<WorkerEvent> {
        typealias Made = (continuation: AsyncStream<WorkerEvent>.Continuation, generation: Int, finished: Bool)
        let (stream, made) = state.withLockedValue { state -> (AsyncStream<WorkerEvent>, Made?) in
            if let stream = state.stream { return (stream, nil) }
            let (stream, continuation) = AsyncStream.makeStream(of: WorkerEvent.self,
                                                                bufferingPolicy: .bufferingNewest(Self.bufferSize))
            state.generation += 1
            if !state.finished {
                state.stream = stream
                state.continuation = continuation
            }
            return (stream, (continuation, state.generation, state.finished))
        }
        if let made {
            if made.finished {
                made.continuation.finish()
            } else {
                made.continuation.onTermination = { [weak self] _ in self?.detach(made.generation) }
            }
        }
        return stream
    }

    /// Whether a consumer has asked for events.
    var isSubscribed: Bool {
        state.withLockedValue { $0.continuation != nil }
    }

    /// Delivers `event` to the consumer, if there is one; otherwise `event` is not even built.
    func yield(_ event: @autoclosure () -> WorkerEvent) {
        guard let continuation = state.withLockedValue({ $0.continuation }) else { return }
        continuation.yield(event())
    }

    /// Ends the stream: the worker's run is over.
    func finish() {
        // The stream and continuation leave the lock before they are released: releasing the last reference to
        // the stream runs its onTermination (detach), which takes the lock again.
        let (stream, continuation) = state.withLockedValue { state in
            state.finished = true
            defer { state.continuation = nil; state.stream = nil }
            return (state.stream, state.continuation)
        }
        continuation?.finish()
        withExtendedLifetime(stream) {}
    }

    /// Forgets the subscription `generation` once its consumer's task was cancelled (or the stream was dropped), so
    /// events are no longer produced.
    private func detach(_ generation: Int) {
        let released = state.withLockedValue { state -> (AsyncStream<WorkerEvent>?, AsyncStream<WorkerEvent>.Continuation?) in
            guard state.generation == generation else { return (nil, nil) }
            defer { state.continuation = nil; state.stream = nil }
            return (state.stream, state.continuation)
        }
        withExtendedLifetime(released) {}  // released outside the lock, for the same reason as in finish()
    }
}
