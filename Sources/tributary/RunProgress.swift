import Foundation
import Tributary

/// Follows a flow run until it ends, showing its progress: on a terminal a live tree redrawn in place, otherwise one
/// line per node state change (`+1.2s fetch-name: completed in 10ms → "world"`).
struct RunProgress {
    let producer: FlowProducer
    let runId: String
    /// Whether to print progress at all.
    let live: Bool
    let timeout: Duration?

    struct Outcome {
        let run: FlowRun
        let timedOut: Bool
    }

    /// Draws the run until it settles (``FlowProducer/waitForRun(_:timeout:)`` decides, not a poll of its status)
    /// or the timeout passes; `nil` if it disappears.
    func follow() async -> Outcome? {
        let terminal = live && isatty(STDOUT_FILENO) == 1
        let start = ContinuousClock.now
        let settlement = RunSettlement()
        let waiter = Task { await settlement.wait(producer, runId: runId) }
        defer { waiter.cancel() }
        var lastStates: [String: JobState] = [:]
        var drawnLines = 0
        var failures = 0
        while true {
            var run: FlowRun
            do {
                guard let found = try await producer.getFlowRun(runId) else { return nil }
                run = found
                failures = 0
            } catch {
                failures += 1
                if failures == 1 { Output.warn("reading run \(runId) failed (\(error)); retrying") }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let view = FlowView(run: run)
            let settled = await settlement.result
            if case .gone? = settled { return nil }
            if case .settled(let final)? = settled { run = final }
            let done = settled != nil
            let timedOut = !done && timeout.map { ContinuousClock.now - start >= $0 } == true
            if terminal {
                // Erase the previous drawing, then draw the tree with a progress bar under it.
                if drawnLines > 0 { print("\u{1B}[\(drawnLines)A\u{1B}[J", terminator: "") }
                if !done && !timedOut {
                    let lines = FlowRendering.tree(view, now: now).split(separator: "\n").map { Self.fit(String($0)) }
                        + [Self.bar(view)]
                    print(lines.joined(separator: "\n"))
                    drawnLines = lines.count
                } else {
                    drawnLines = 0
                }
            } else if live {
                for node in view.nodes where lastStates[node.key] != node.state {
                    let elapsed = Output.duration(milliseconds: max(0, now - run.createdAt))
                    print("+\(elapsed) \(node.label): \(FlowRendering.details(node, now: now))")
                }
            }
            fflush(nil)
            lastStates = Dictionary(uniqueKeysWithValues: view.nodes.map { ($0.key, $0.state) })
            if done || timedOut { return Outcome(run: run, timedOut: timedOut) }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// The end of a run as ``FlowProducer/waitForRun(_:timeout:)`` reports it, kept for the drawing loop.
    actor RunSettlement {
        enum Result { case settled(FlowRun), gone }
        private(set) var result: Result?

        /// Waits for the run to settle, through read errors (retried every second).
        func wait(_ producer: FlowProducer, runId: String) async {
            while !Task.isCancelled {
                do {
                    result = .settled(try await producer.waitForRun(runId))
                    return
                } catch let error as QueueError where error.code == .runNotFound {
                    result = .gone
                    return
                } catch {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// `[██████░░░░░░░░░░] 3/8 finished`.
    static func bar(_ view: FlowView) -> String {
        let total = max(view.nodes.count, 1)
        let width = 24
        let filled = view.finishedCount * width / total
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
            + "\(view.finishedCount)/\(view.nodes.count) finished"
    }

    /// A line cut to the terminal's width, so the redraw knows how many lines it drew.
    static func fit(_ line: String) -> String {
        var size = winsize()
        let columns = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return line.count >= columns ? String(line.prefix(columns - 1)) : line
    }
}
