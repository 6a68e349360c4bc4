/// A flow as a person looks at it: every node once with its state and job, the nodes each one needs, the counts per
/// state, and (through ``treeLayout(_:)``) the lines of a tree drawing. The CLI's `flow show` and `run --wait` draw
/// this view, and so can any other front end (a dashboard), so they all show the same thing.
///
/// Built from a flow run (a DAG keyed by node id) or from a BullMQ tree read with `getFlow` (keyed by job key).
/// Building it, counting and laying it out take time linear in nodes plus edges, without recursion, so runs of
/// hundreds of thousands of nodes and chains of any length can be drawn.
public struct FlowRunView: Sendable {
    /// One node of the view.
    public struct Node: Sendable {
        /// Unique within the view: the node id of a run, the job key of a tree node.
        public let key: String
        /// What a drawing calls it: the node id of a run, `name (queue:id)` for a tree node.
        public let label: String
        /// The job name.
        public let name: String
        /// The node's queue.
        public let queue: String
        /// The node's job id.
        public let jobId: String
        /// The job's state (``JobState/unknown`` once the job is gone; see ``FlowRunView/word(for:)``).
        public let state: JobState
        /// The job as read, or `nil` once it is gone.
        public let job: Job?
        /// Keys of the nodes this one needs (a tree node's children), in order, without repeats.
        public let needs: [String]
        /// For a map node of a run, where its items stand (see ``FlowProducer/mapProgress(of:items:)``).
        public var map: MapProgress? = nil

        /// Whether this node of a run was skipped: its `when` did not hold, so it completed without running
        /// (field `skipped`).
        public var isSkipped: Bool { state == .completed && job?.fields["skipped"] == "1" }
        /// For a deduplicated node of a run (its deduplication id was held by another job when the run was
        /// submitted): the id of that job, whose outcome the node takes instead of running (field
        /// `flowDedupHolder`).
        public var deduplicatedBy: String? { job?.fields["flowDedupHolder"] }
    }

    /// The first line of a drawing: what this is and where it stands.
    public let title: String
    /// The run's status (`completed`, `failed`, …), or `nil` for a tree.
    public let status: FlowRunStatus?
    /// When the run was created (ms since 1970), for runs.
    public let createdAt: Int64?
    /// The run id, for runs.
    public let runId: String?
    /// Every node once, each after the nodes it needs.
    public let nodes: [Node]
    /// Where a tree drawing starts: the sinks of a run, the root of a tree.
    public let roots: [String]
    /// How many nodes are in each state.
    public let stateCounts: [JobState: Int]

    /// Node positions by key.
    let index: [String: Int]
    /// For each node, the positions of the nodes it needs; a need that is not in the view is `-(m + 1)`, where `m`
    /// is its position in ``missingKeys``.
    let needIndices: [[Int]]
    /// Keys needed by some node but absent from the view.
    let missingKeys: [String]

    /// A view of a run.
    ///
    /// - Parameters:
    ///   - run: the run, as ``FlowProducer/getFlowRun(_:jobs:)`` read it.
    ///   - maps: the progress of the run's map nodes, by node id (``FlowProducer/mapProgress(of:items:)``); a map
    ///     node's label then carries its item count (`convert ×1000`).
    public init(run: FlowRun, maps: [String: MapProgress] = [:]) {
        self.init(title: "run \(run.id) (flow \(run.flow)): \(run.status.rawValue)", status: run.status,
                  createdAt: run.createdAt, runId: run.id, roots: run.roots,
                  nodes: run.nodes.map { node in
                      Node(key: node.id, label: maps[node.id].map { "\(node.id) ×\($0.total)" } ?? node.id, name: node.name,
                           queue: node.queue, jobId: node.jobId, state: node.state, job: node.job,
                           needs: Self.withoutRepeats(node.needs), map: maps[node.id])
                  })
    }

    /// A view of a BullMQ tree read with ``FlowProducer/getFlow(id:queue:depth:maxChildren:)``. A job reached
    /// twice (a multi-parent node) is one node.
    public init(tree: FlowTree) {
        // Post-order without recursion: a node is added once all its children are.
        var nodes: [Node] = []
        var seen: Set<String> = []
        var stack: [(tree: FlowTree, expanded: Bool)] = [(tree, false)]
        while let (current, expanded) = stack.popLast() {
            if expanded {
                let job = current.job
                nodes.append(Node(key: job.key, label: "\(job.name) (\(job.queue.queueName):\(job.id))", name: job.name,
                                  queue: job.queue.queueName, jobId: job.id, state: current.state, job: job,
                                  needs: Self.withoutRepeats(current.children.map(\.job.key))))
                continue
            }
            guard seen.insert(current.job.key).inserted else { continue }
            stack.append((current, true))
            for child in current.children.reversed() where !seen.contains(child.job.key) {
                stack.append((child, false))
            }
        }
        self.init(title: "flow of job \(tree.job.id) in queue '\(tree.job.queue.queueName)': \(tree.state.rawValue)",
                  status: nil, createdAt: nil, runId: nil, roots: [tree.job.key], nodes: nodes)
    }

    private init(title: String, status: FlowRunStatus?, createdAt: Int64?, runId: String?, roots: [String], nodes: [Node]) {
        self.title = title
        self.status = status
        self.createdAt = createdAt
        self.runId = runId
        self.roots = roots
        self.nodes = nodes
        var index: [String: Int] = [:]
        index.reserveCapacity(nodes.count)
        var counts: [JobState: Int] = [:]
        for (position, node) in nodes.enumerated() {
            if index[node.key] == nil { index[node.key] = position }
            counts[node.state, default: 0] += 1
        }
        var missing: [String] = []
        var missingIndex: [String: Int] = [:]
        needIndices = nodes.map { node in
            node.needs.map { key in
                if let position = index[key] { return position }
                if let known = missingIndex[key] { return -(known + 1) }
                missingIndex[key] = missing.count
                missing.append(key)
                return -missing.count
            }
        }
        missingKeys = missing
        self.index = index
        stateCounts = counts
    }

    private static func withoutRepeats(_ keys: [String]) -> [String] {
        guard keys.count > 1 else { return keys }
        var seen: Set<String> = []
        return keys.filter { seen.insert($0).inserted }
    }

    /// The node with this key.
    public func node(_ key: String) -> Node? { index[key].map { nodes[$0] } }

    /// The word for a node's state, the same in every format: the state's raw value, except `gone` for a node
    /// whose job no longer exists (``JobState/unknown``: removed, or trimmed by its retention options).
    public static func word(for state: JobState) -> String {
        state == .unknown ? "gone" : state.rawValue
    }

    /// The states in the order summaries list them.
    public static let stateOrder: [JobState] = [
        .completed, .active, .waiting, .prioritized, .delayed, .waitingChildren, .failed, .unknown,
    ]

    /// How many nodes are in each state, in ``stateOrder``, without zero counts: `3 completed, 1 active`.
    public var stateSummary: String {
        Self.stateOrder.compactMap { state in stateCounts[state].map { "\($0) \(Self.word(for: state))" } }
            .joined(separator: ", ")
    }

    /// The nodes that have finished (completed or failed).
    public var finishedCount: Int { (stateCounts[.completed] ?? 0) + (stateCounts[.failed] ?? 0) }
}
