/// Where a flow run stands as a whole.
public enum FlowRunStatus: String, Sendable, Equatable {
    /// Some node can still run: it is waiting, delayed, prioritized or active, or waits for inputs that can still
    /// arrive. A node with retries pending keeps its run running.
    case running
    /// Nothing can run any more and every root (sink) completed (or was skipped).
    case completed
    /// Nothing can run any more and a root did not complete: it failed, was removed, or waits for an input that
    /// failed and keeps it waiting.
    case failed
    /// The run was cancelled: its pending nodes were removed.
    case cancelled
}

/// How much of each node's job ``FlowProducer/getFlowRun(_:jobs:)`` reads.
public enum FlowRunJobDetail: Sendable {
    /// Every field of each job (data, options, stack traces, parent links, …).
    case full
    /// What a drawing of the run shows: the name, attempts, timings, result, failure reason, the skip mark and a
    /// map node's counts (``Job/summaryFieldNames``). ``Job/data`` is `null`, ``Job/options`` the defaults and
    /// ``Job/stacktrace`` empty. For large runs this reads and keeps a fraction of ``full``.
    case summary
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
    /// When the run settled (nothing of it could run any more), if it has; cleared when it is retried.
    public let finishedAt: Int64?
    /// The status written when the run settled (`state` of the run record), with ``finishedAt``.
    let settledStatus: FlowRunStatus?
    /// The sinks (nodes nobody needs), the runs' roots.
    public let roots: [String]
    /// Every node, each after the nodes it needs.
    public let nodes: [FlowRunNode]

    init(id: String, flow: String, prefix: String, createdAt: Int64, cancelledAt: Int64?, finishedAt: Int64? = nil,
         settledStatus: FlowRunStatus? = nil, roots: [String], nodes: [FlowRunNode]) {
        self.id = id
        self.flow = flow
        self.prefix = prefix
        self.createdAt = createdAt
        self.cancelledAt = cancelledAt
        self.finishedAt = finishedAt
        self.settledStatus = settledStatus
        self.roots = roots
        self.nodes = nodes
    }

    /// The node with this id.
    public func node(_ id: String) -> FlowRunNode? { nodes.first { $0.id == id } }

    /// The run's status.
    ///
    /// A settled run (``finishedAt`` set) has the status written when it settled, in the same script as the
    /// node's outcome that settled it. Otherwise the status is derived from the nodes: recorded outcomes first,
    /// then job states (read in one step with the record), so it never depends on whether finished jobs were
    /// kept, and never concludes from a job caught between two states.
    public var status: FlowRunStatus {
        if cancelledAt != nil { return .cancelled }
        if finishedAt != nil, let settledStatus { return settledStatus }
        var finished: [String: FlowRunNode.Outcome] = [:]
        for node in nodes {
            if let outcome = node.finalOutcome {
                finished[node.id] = outcome
                continue
            }
            switch node.state {
            case .unknown:
                finished[node.id] = .removed
            case .waitingChildren:
                // Inputs that all succeeded release it (or it waits for children added at run time).
                if node.needs.allSatisfy({ finished[$0]?.succeeded == true }) { return .running }
                finished[node.id] = .stuck
            default:
                return .running
            }
        }
        let rootOutcomes = roots.map { finished[$0] }
        if !rootOutcomes.isEmpty, rootOutcomes.allSatisfy({ $0?.succeeded == true }) { return .completed }
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
    /// The outcome recorded in the run when the node finished for good (`completed`, `failed`, `skipped`,
    /// `cancelled`, `removed`), or `nil` while it has not (or when a worker that records none finished it).
    /// It survives the job: a node whose job was removed by `removeOnComplete` is still `completed`.
    public let outcome: String?

    init(id: String, name: String, queue: String, jobId: String, needs: [String], dependents: [String],
         state: JobState, job: Job?, outcome: String? = nil) {
        self.id = id
        self.name = name
        self.queue = queue
        self.jobId = jobId
        self.needs = needs
        self.dependents = dependents
        self.state = state
        self.job = job
        self.outcome = outcome
    }

    /// How a node ended, as far as its run is concerned.
    enum Outcome {
        case completed, skipped, failed, cancelled, removed, stuck
        var succeeded: Bool { self == .completed || self == .skipped }
    }

    /// The recorded outcome, or the job's finished state when none is recorded.
    var finalOutcome: Outcome? {
        switch outcome {
        case "completed": return .completed
        case "skipped": return .skipped
        case "failed": return .failed
        case "cancelled": return .cancelled
        case "removed": return .removed
        case .some: return .failed
        case nil: break
        }
        switch state {
        case .completed: return .completed
        case .failed: return .failed
        default: return nil
        }
    }
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
    /// The flow schedule that fired it (see ``FlowProducer/scheduleFlow(_:definition:repeat:queue:)``), or `nil`
    /// for a run submitted otherwise.
    public var schedule: String? = nil
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
