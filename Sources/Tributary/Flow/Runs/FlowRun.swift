/// Where a flow run stands as a whole.
public enum FlowRunStatus: String, Sendable, Equatable {
    /// Some node is still waiting, delayed or active.
    case running
    /// Every root (sink) completed.
    case completed
    /// A root failed, or nothing can move any more without every root having completed (a node failed and its
    /// dependents wait for it, or a node was removed).
    case failed
    /// The run was cancelled: its pending nodes were removed.
    case cancelled
}

/// A flow run rebuilt from Redis: the whole DAG, each shared node once, with each node's state and job.
public struct FlowRun: Sendable {
    /// The run id.
    public let id: String
    /// The flow's name.
    public let flow: String
    /// The key prefix of the run's queues.
    public let prefix: String
    /// When the run was submitted, in ms since 1970.
    public let createdAt: Int64
    /// When the run was cancelled, if it was.
    public let cancelledAt: Int64?
    /// The sinks (nodes nobody needs), the runs' roots.
    public let roots: [String]
    /// Every node, each after the nodes it needs.
    public let nodes: [FlowRunNode]

    /// The node with this id.
    public func node(_ id: String) -> FlowRunNode? { nodes.first { $0.id == id } }

    /// The run's status, derived from its nodes' states.
    public var status: FlowRunStatus {
        if cancelledAt != nil { return .cancelled }
        let rootNodes = roots.compactMap(node)
        if !rootNodes.isEmpty, rootNodes.allSatisfy({ $0.state == .completed }) { return .completed }
        if rootNodes.contains(where: { $0.state == .failed }) { return .failed }
        let moving: Set<JobState> = [.waiting, .active, .delayed, .prioritized]
        if nodes.contains(where: { moving.contains($0.state) }) { return .running }
        // Nothing can move: waiting-children nodes wait for a failed or removed node.
        return .failed
    }

    /// How many nodes are in each state.
    public var stateCounts: [JobState: Int] {
        nodes.reduce(into: [:]) { $0[$1.state, default: 0] += 1 }
    }
}

/// One node of a flow run.
public struct FlowRunNode: Sendable {
    /// The node id from the flow file.
    public let id: String
    /// The job name.
    public let name: String
    /// The node's queue.
    public let queue: String
    /// The node's job id.
    public let jobId: String
    /// The nodes this one needs.
    public let needs: [String]
    /// The nodes that need this one.
    public let dependents: [String]
    /// The job's state; `.unknown` once the job is gone (removed, or trimmed by its retention options).
    public let state: JobState
    /// The job as stored (attempts, timings, result or failure), or `nil` once it is gone.
    public let job: Job?
}

/// A run as listed by ``FlowProducer/listFlowRuns(flow:limit:)``.
public struct FlowRunSummary: Sendable, Equatable {
    /// The run id.
    public let id: String
    /// The flow's name.
    public let flow: String
    /// When the run was submitted, in ms since 1970.
    public let createdAt: Int64
    /// When it was cancelled, if it was.
    public let cancelledAt: Int64?
    /// How many nodes it has.
    public let nodeCount: Int
}

/// What ``FlowProducer/submit(_:runId:)`` did.
public struct FlowRunReceipt: Sendable, Equatable {
    /// The run id, given or generated.
    public let runId: String
    /// `false` when a run with this id existed already: nothing was changed (idempotent resubmission).
    public let created: Bool
    /// Each node's job id, by node id (for an existing run, as that run stored them).
    public let jobIds: [String: String]
}

/// What ``FlowProducer/cancelFlowRun(_:)`` did.
public struct FlowRunCancellation: Sendable, Equatable {
    /// Pending nodes deleted.
    public let removed: Int
    /// Nodes left alone: active ones (they finish) and finished ones.
    public let left: Int
}
