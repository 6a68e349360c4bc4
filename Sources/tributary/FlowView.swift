import Tributary

/// A flow as `flow show` and `run --wait` draw it: nodes with their state and job, and the nodes each one needs.
/// Built from a flow run (a DAG, keyed by node id) or from a BullMQ tree read with getFlow (keyed by job key).
struct FlowView {
    struct Node {
        /// Unique within the view: the node id of a run, the job key of a tree node.
        let key: String
        /// What the drawing calls it.
        let label: String
        let name: String
        let queue: String
        let jobId: String
        let state: JobState
        let job: Job?
        /// Keys of the nodes this one needs (a tree node's children), in order.
        let needs: [String]
        /// For a map node of a run, where its items stand.
        var map: MapProgress? = nil
    }

    /// The first line: what this is and where it stands.
    let title: String
    /// The run's status (`completed`, `failed`, …), or `nil` for a tree.
    let status: FlowRunStatus?
    /// When the run was created, for runs.
    let createdAt: Int64?
    /// The run id, for runs.
    let runId: String?
    /// Every node once, each after the nodes it needs.
    let nodes: [Node]
    /// Where the drawing starts: the sinks of a run, the root of a tree.
    let roots: [String]

    private var index: [String: Int] {
        Dictionary(nodes.enumerated().map { ($1.key, $0) }) { first, _ in first }
    }

    func node(_ key: String) -> Node? { index[key].map { nodes[$0] } }

    /// How many nodes are in each state, in a fixed order, without zero counts: `3 completed, 1 active`.
    var stateSummary: String {
        let order: [JobState] = [.completed, .active, .waiting, .prioritized, .delayed, .waitingChildren, .failed, .unknown]
        let counts = nodes.reduce(into: [JobState: Int]()) { $0[$1.state, default: 0] += 1 }
        return order.compactMap { state in counts[state].map { "\($0) \(state == .unknown ? "gone" : state.rawValue)" } }
            .joined(separator: ", ")
    }

    /// The nodes that have finished (completed or failed).
    var finishedCount: Int { nodes.filter { $0.state == .completed || $0.state == .failed }.count }

    /// - Parameter maps: the progress of the run's map nodes, by node id (``FlowProducer/mapProgress(of:items:)``).
    init(run: FlowRun, maps: [String: MapProgress] = [:]) {
        runId = run.id
        status = run.status
        createdAt = run.createdAt
        title = "run \(run.id) (flow \(run.flow)): \(run.status.rawValue)"
        nodes = run.nodes.map { node in
            Node(key: node.id, label: maps[node.id].map { "\(node.id) ×\($0.total)" } ?? node.id, name: node.name,
                 queue: node.queue, jobId: node.jobId, state: node.state, job: node.job, needs: node.needs,
                 map: maps[node.id])
        }
        roots = run.roots
    }

    init(tree: FlowTree) {
        runId = nil
        status = nil
        createdAt = nil
        var nodes: [Node] = []
        var seen: Set<String> = []
        func visit(_ tree: FlowTree) {
            guard seen.insert(tree.job.key).inserted else { return }
            for child in tree.children { visit(child) }
            var needs: [String] = []
            for child in tree.children where !needs.contains(child.job.key) { needs.append(child.job.key) }
            nodes.append(Node(key: tree.job.key, label: "\(tree.job.name) (\(tree.job.queue.queueName):\(tree.job.id))",
                              name: tree.job.name, queue: tree.job.queue.queueName, jobId: tree.job.id, state: tree.state,
                              job: tree.job, needs: needs))
        }
        visit(tree)
        self.nodes = nodes
        roots = [tree.job.key]
        title = "flow of job \(tree.job.id) in queue '\(tree.job.queue.queueName)': \(tree.state.rawValue)"
    }
}
