import Foundation
import Tributary

/// Follows a flow run until it ends (or the timeout passes), handing each reading to a ``ProgressDisplay``. When the
/// run has ended is decided here; how progress looks is the display's business.
struct RunProgress {
    let producer: FlowProducer
    let runId: String
    /// Where readings are shown, if anywhere.
    let display: ProgressDisplay?
    let timeout: Duration?

    struct Outcome {
        let run: FlowRun
        let timedOut: Bool
    }

    /// Reads and shows the run until it settles (``FlowProducer/waitForRun(_:timeout:jobs:)`` decides, not a poll of its
    /// status) or the timeout passes; `nil` if it disappears or the task is cancelled. Waits between readings at
    /// least 250 ms, and twice as long as a reading took, so that following a very large run does not keep Redis busy.
    func follow() async -> Outcome? {
        let clock = ContinuousClock()
        let start = clock.now
        let settlement = RunSettlement()
        let waiter = Task { await settlement.wait(producer, runId: runId) }
        defer { waiter.cancel() }
        var failures = 0
        while !Task.isCancelled {
            let readStart = clock.now
            var run: FlowRun
            do {
                guard let found = try await producer.getFlowRun(runId, jobs: .summary) else { return nil }
                run = found
                failures = 0
            } catch {
                if Task.isCancelled { return nil }
                failures += 1
                if failures == 1 { Output.warn("reading run \(runId) failed (\(error)); retrying") }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            let reading = clock.now - readStart
            let settled = await settlement.result
            if case .gone? = settled { return nil }
            if case .settled(let final)? = settled { run = final }
            let done = settled != nil
            let timedOut = !done && timeout.map { clock.now - start >= $0 } == true
            display?.show(run, now: Int64(Date().timeIntervalSince1970 * 1000), final: done || timedOut)
            if done || timedOut { return Outcome(run: run, timedOut: timedOut) }
            try? await Task.sleep(for: max(.milliseconds(250), reading * 2))
        }
        return nil
    }

    /// The end of a run as ``FlowProducer/waitForRun(_:timeout:jobs:)`` reports it, kept for the reading loop.
    actor RunSettlement {
        enum Result { case settled(FlowRun), gone }
        private(set) var result: Result?

        /// Waits for the run to settle, through read errors (retried every second).
        func wait(_ producer: FlowProducer, runId: String) async {
            while !Task.isCancelled {
                do {
                    result = .settled(try await producer.waitForRun(runId, jobs: .summary))
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
}

/// Shows a run's progress. On a terminal: a frame that fits the terminal (a summary line, a bar, the failed and
/// active nodes, the newest events), redrawn in place and erased at the end. Otherwise: plain lines without escape
/// codes, one per node state change (`+1.2s fetch-name: completed in 10ms → "world"`).
final class ProgressDisplay: @unchecked Sendable {  // used by one task at a time
    private(set) var progress = FlowRunProgress()
    private let terminal: Bool
    private var drawnLines = 0

    /// - Parameter terminal: whether stdout is a terminal (redraw in place) or not (plain lines).
    init(terminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.terminal = terminal
    }

    /// Shows one reading; with `final`, a terminal's frame is erased (the caller prints the final tree).
    func show(_ run: FlowRun, now: Int64, final: Bool) {
        let events = progress.update(run, now: now)
        guard let view = progress.view else { return }
        if terminal {
            if drawnLines > 0 { print("\u{1B}[\(drawnLines)A\u{1B}[J", terminator: "") }
            drawnLines = 0
            if !final {
                let size = Self.terminalSize()
                let lines = Self.frame(progress, createdAt: run.createdAt, now: now, rows: size.rows, columns: size.columns)
                print(lines.joined(separator: "\n"))
                drawnLines = lines.count
            }
        } else {
            for event in events {
                print(Self.eventLine(event, in: view, createdAt: run.createdAt, now: now))
            }
        }
        fflush(nil)
    }

    /// Erases a frame left on the terminal (when following stops early).
    func clear() {
        if terminal && drawnLines > 0 { print("\u{1B}[\(drawnLines)A\u{1B}[J", terminator: "") }
        drawnLines = 0
        fflush(nil)
    }

    /// `+1.2s process-3: completed in 10ms → 9`.
    static func eventLine(_ event: FlowRunProgress.Event, in view: FlowRunView, createdAt: Int64, now: Int64) -> String {
        let node = view.nodes[event.node]
        let elapsed = Output.duration(milliseconds: max(0, event.time - createdAt))
        return "+\(elapsed) \(node.label): \(FlowRendering.details(node, now: now))"
    }

    /// A frame of at most `rows - 1` lines, each shorter than `columns`: the run's title and state counts, a bar,
    /// the failed nodes, the active nodes and the newest events, each list cut (`… and 12 more`) to share the rows.
    static func frame(_ progress: FlowRunProgress, createdAt: Int64, now: Int64, rows: Int, columns: Int) -> [String] {
        guard let view = progress.view else { return [] }
        let width = max(columns - 1, 20)
        var lines = [view.title + " · \(view.nodes.count) node\(view.nodes.count == 1 ? "" : "s"): \(view.stateSummary)",
                     bar(view) + " · " + Output.duration(milliseconds: max(0, now - createdAt))]
        var left = max(rows - 1, 8) - lines.count
        func section(_ title: String, _ items: [String], share: Int) {
            guard !items.isEmpty, left >= 2 else { return }
            let room = min(items.count, max(1, min(share, left - 1)))
            lines.append(title)
            if room < items.count {
                lines += items.prefix(room - 1).map { "  " + $0 }
                lines.append("  … and \(items.count - room + 1) more")
            } else {
                lines += items.map { "  " + $0 }
            }
            left -= room + 1
        }
        func nodeLine(_ position: Int) -> String {
            let node = view.nodes[position]
            return FlowRendering.mark(node) + " " + node.label + "  " + FlowRendering.details(node, now: now)
        }
        let total = left
        section("failed (\(progress.failedNodes.count)):", progress.failedNodes.map(nodeLine), share: max(2, total / 4))
        section("active (\(progress.activeNodes.count)):", progress.activeNodes.map(nodeLine), share: max(2, total / 3))
        // The newest events, the most recent last; as many as the remaining rows hold.
        if left >= 2 {
            let events = progress.recentEvents.suffix(left - 1)
            if !events.isEmpty {
                lines.append("newest events:")
                lines += events.map { "  " + eventLine($0, in: view, createdAt: createdAt, now: now) }
            }
        }
        return lines.map { FlowRendering.cut($0, width) }
    }

    /// `[██████░░░░░░░░░░░░░░░░░░] 3/8 finished`.
    static func bar(_ view: FlowRunView) -> String {
        let total = max(view.nodes.count, 1)
        let width = 24
        let filled = view.finishedCount * width / total
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
            + "\(view.finishedCount)/\(view.nodes.count) finished"
    }

    /// The terminal's rows and columns (24 × 80 when unknown).
    static func terminalSize() -> (rows: Int, columns: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return (24, 80) }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}
