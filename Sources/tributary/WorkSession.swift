import Foundation
import Tributary
import UnixSignals

/// The workers `run --work` runs while it follows its run, and their graceful stop: when the run ends, or on SIGINT
/// or SIGTERM, they take no new jobs and running jobs get the grace period to finish; past it (or at a second signal)
/// running jobs are interrupted: a command step's process group is killed and reaped, and the job runs again
/// elsewhere once its lock expires. No command child outlives the process.
struct WorkSession {
    let workers: [Worker]
    let gracePeriod: DurationArgument

    /// How a session ended.
    enum Ending {
        /// Following ended (the run ended, timed out or disappeared: `nil`); the workers have stopped.
        case followed(RunProgress.Outcome?)
        /// A signal stopped the session; the workers have stopped, and messages went to stderr.
        case stopped
    }

    /// Runs the workers while `follower` follows the run, until following ends or a signal comes.
    func follow(_ follower: RunProgress, runId: String, display: ProgressDisplay?) async -> Ending {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let runners = workers.map { worker in Task { try await worker.run() } }
        let following = Task { await follower.follow() }
        let received = SignalLog()
        let workers = self.workers
        let watcher = Task {
            for await signal in signals {
                if received.note(signal) == 1 {
                    following.cancel()
                } else {
                    Output.warn("received \(signal) again: interrupting the running jobs now")
                    await withTaskGroup(of: Void.self) { group in
                        for worker in workers { group.addTask { await worker.close(force: true) } }
                    }
                }
            }
        }
        let outcome = await following.value
        if let signal = received.first {
            display?.clear()
            Output.warn("received \(signal): stopping the workers: no new jobs; running jobs get up to \(gracePeriod) "
                + "to finish (--grace-period), then they are interrupted; a second signal interrupts them now")
            await close(timeout: gracePeriod.duration)
            for runner in runners { _ = try? await runner.value }
            watcher.cancel()
            Output.warn("stopped; run \(runId) did not end here: its remaining nodes wait for a worker "
                + "(`tributary worker --queue …`), or `tributary flow cancel \(runId)` cancels it")
            return .stopped
        }
        await close(timeout: .seconds(10))
        for runner in runners { _ = try? await runner.value }
        watcher.cancel()
        return .followed(outcome)
    }

    private func close(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for worker in workers { group.addTask { await worker.close(timeout: timeout) } }
        }
    }
}

/// The signals received so far (shared by the task that watches them and the one that stops the workers).
private final class SignalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var signals: [UnixSignal] = []

    /// Records a signal; returns how many have been received.
    func note(_ signal: UnixSignal) -> Int {
        lock.withLock {
            signals.append(signal)
            return signals.count
        }
    }

    var first: UnixSignal? { lock.withLock { signals.first } }
}
