/// The progress of a run as a live display shows it, built from successive readings of the run: the latest
/// ``FlowRunView``, the nodes now active and failed, and the newest state changes (events). It holds no terminal
/// logic: the CLI draws it to fit its terminal (or as plain lines), and a dashboard can draw the same thing.
///
/// It only takes readings; when the run has ended is decided by whoever reads the run.
public struct FlowRunProgress: Sendable {
    /// A node's state as a reading first found it.
    public struct Event: Sendable, Equatable {
        /// When the reading was taken, in ms since 1970.
        public let time: Int64
        /// The node's key in the view (the node id of a run).
        public let key: String
        /// Its position in the view the event came with (``FlowRunProgress/view``), for its label and job.
        public let node: Int
        /// The state it was found in.
        public let state: JobState
    }

    /// The latest reading, or `nil` before the first.
    public private(set) var view: FlowRunView?
    /// The newest events, oldest first, at most ``keepEvents`` of them.
    public private(set) var recentEvents: [Event] = []
    /// How many events ``recentEvents`` keeps.
    public let keepEvents: Int
    /// Positions (in ``view``) of the active nodes, in view order.
    public private(set) var activeNodes: [Int] = []
    /// Positions (in ``view``) of the failed nodes, in view order.
    public private(set) var failedNodes: [Int] = []
    private var lastStates: [String: JobState] = [:]

    /// - Parameter keepEvents: how many of the newest events to keep for display.
    public init(keepEvents: Int = 50) {
        self.keepEvents = max(0, keepEvents)
    }

    /// Takes a reading of the run; returns the events it brought: every node whose state differs from the previous
    /// reading (on the first reading, every node), in view order.
    @discardableResult
    public mutating func update(_ run: FlowRun, now: Int64) -> [Event] {
        update(FlowRunView(run: run), now: now)
    }

    /// Takes a reading already made into a view; see ``update(_:now:)-(FlowRun,_)``.
    @discardableResult
    public mutating func update(_ view: FlowRunView, now: Int64) -> [Event] {
        var events: [Event] = []
        var active: [Int] = []
        var failed: [Int] = []
        var states: [String: JobState] = [:]
        states.reserveCapacity(view.nodes.count)
        for (position, node) in view.nodes.enumerated() {
            if lastStates[node.key] != node.state {
                events.append(Event(time: now, key: node.key, node: position, state: node.state))
            }
            states[node.key] = node.state
            if node.state == .active { active.append(position) }
            if node.state == .failed { failed.append(position) }
        }
        lastStates = states
        self.view = view
        activeNodes = active
        failedNodes = failed
        // Events point into the view they came with; older ones are re-pointed to the new view when still there.
        recentEvents = recentEvents.compactMap { event in
            view.index[event.key].map { Event(time: event.time, key: event.key, node: $0, state: event.state) }
        }
        recentEvents += events.suffix(keepEvents)
        if recentEvents.count > keepEvents { recentEvents.removeFirst(recentEvents.count - keepEvents) }
        return events
    }
}
