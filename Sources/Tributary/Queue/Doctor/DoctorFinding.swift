/// One inconsistency that ``QueueDoctor`` found in a queue's keys.
///
/// Each finding names the queue, the key it is about and, where it concerns one job, the job id. `detail` says
/// what was seen in words a person can act on.
public struct DoctorFinding: Sendable, Equatable, Hashable {
    /// The kinds of inconsistency the doctor looks for.
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        /// A job hash that no state list or set holds: no worker will ever take it and no listing shows it.
        case jobInNoState = "job-in-no-state"
        /// A job held by two state lists or sets at once (for example `wait` and `completed`).
        case jobInSeveralStates = "job-in-several-states"
        /// A state list or set holds an id whose job hash does not exist.
        case missingJobHash = "missing-job-hash"
        /// A parent's `:dependencies` set names a child job that does not exist: the parent waits for nothing.
        case missingDependency = "missing-dependency"
        /// A parent in `waiting-children` with no pending dependency: nothing will ever move it on.
        case stuckParent = "stuck-parent"
        /// An unfinished job whose parent job does not exist: its result goes nowhere.
        case orphanChild = "orphan-child"
        /// A job lock (`<job>:lock`) for a job that is not active.
        case strayLock = "stray-lock"
        /// An active job without a lock for longer than the lock duration: no worker holds it.
        case unlockedActive = "unlocked-active"
        /// A flow run's record disagrees with its jobs (a node's job is gone with no recorded outcome, or a
        /// cancelled run still has pending nodes).
        case runMismatch = "run-mismatch"
        /// A queue key holds the wrong Redis type (for example `wait` is a hash): every script on it fails.
        case wrongKeyType = "wrong-key-type"

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        /// Whether ``QueueDoctor/repair(_:)`` can repair this kind safely.
        public var isRepairable: Bool {
            switch self {
            case .jobInNoState, .missingJobHash, .missingDependency, .stuckParent, .orphanChild, .strayLock,
                 .unlockedActive:
                return true
            case .jobInSeveralStates, .runMismatch, .wrongKeyType:
                return false
            }
        }

        /// What ``QueueDoctor/repair(_:)`` does for this kind, or why it does nothing.
        public var repairDescription: String {
            switch self {
            case .jobInNoState: return "moved to failed with a reason saying the doctor found it in no state"
            case .missingJobHash: return "the dangling id is removed from the list or set"
            case .missingDependency: return "the dependency is removed; a parent with nothing left pending moves on"
            case .stuckParent: return "the parent moves on (to wait, prioritized or delayed, by its options)"
            case .orphanChild: return "the link to the missing parent is removed from the job"
            case .strayLock: return "the lock is deleted"
            case .unlockedActive: return "marked stalled: the next stalled check of any worker moves it back to wait"
            case .jobInSeveralStates: return "not repaired: which state is right needs a person (see the job's timestamps)"
            case .runMismatch: return "not repaired: inspect the run with `tributary flow show`"
            case .wrongKeyType: return "not repaired: the key holds data of another kind; rename or delete it by hand"
            }
        }
    }

    /// What is wrong.
    public let kind: Kind
    /// The queue (or `__flows__` for run records).
    public let queue: String
    /// The job concerned, when the finding is about one job.
    public let jobId: String?
    /// The Redis key concerned.
    public let key: String
    /// What was seen.
    public let detail: String

    /// Creates a finding.
    public init(_ kind: Kind, queue: String, jobId: String?, key: String, detail: String) {
        self.kind = kind
        self.queue = queue
        self.jobId = jobId
        self.key = key
        self.detail = detail
    }
}

/// What ``QueueDoctor/examine(queues:progress:)`` found.
public struct DoctorReport: Sendable {
    /// The queues examined.
    public let queues: [String]
    /// How many job hashes were examined.
    public let jobsExamined: Int
    /// How many keys SCAN returned.
    public let keysScanned: Int
    /// How many flow runs were examined.
    public let runsExamined: Int
    /// The findings, each confirmed by an atomic re-read; at most ``QueueDoctor/findingLimit`` per kind.
    public let findings: [DoctorFinding]
    /// How many of each kind were found, including any beyond the listed ones.
    public let counts: [DoctorFinding.Kind: Int]

    /// Whether nothing was found.
    public var isHealthy: Bool { counts.values.allSatisfy { $0 == 0 } }
    /// Whether some findings were not listed because of the per-kind limit.
    public var isTruncated: Bool { counts.values.reduce(0, +) > findings.count }
}

/// What ``QueueDoctor/repair(_:)`` did for one finding.
public struct DoctorRepair: Sendable, Equatable {
    /// The finding.
    public let finding: DoctorFinding
    /// `true` when the repair was made; `false` when the finding no longer held (something else fixed or changed
    /// it since the examination) or its kind is not repairable.
    public let repaired: Bool
    /// What was done, or why nothing was.
    public let action: String
}
