/// What a flow node's dependents (its parents) do when the node fails for good.
///
/// The first four are BullMQ's mutually exclusive child options; each is stored as BullMQ stores it, a short flag
/// in the child's `opts` and in its `parent` link (`fpof`, `idof`, `rdof`, `cpof`), so Node and Python workers
/// apply the same policy to Tributary's trees.
public enum FailurePolicy: String, Sendable, Hashable, CaseIterable {
    /// The dependents fail too (BullMQ's `failParentOnFailure`): the child is recorded in the dependent's
    /// `:unsuccessful` set and the dependent is failed by the next worker that takes it. The default of flow files.
    case fail
    /// The dependents run once nothing else is pending, and can read the failure (BullMQ's
    /// `ignoreDependencyOnFailure`; recorded in the dependent's `:failed` hash).
    case ignore
    /// The dependents run once nothing else is pending; nothing is recorded (`removeDependencyOnFailure`).
    case remove
    /// The dependents start at once, other children pending or not, and can read the failure
    /// (`continueParentOnFailure`).
    case `continue`
    /// BullMQ's default when no option is set: the failed child stays pending and its dependents wait until it is
    /// retried or removed.
    case keepWaiting

    /// BullMQ's short flag for the policy, as stored in `opts` and in the child's `parent` link.
    public var bullMQFlag: String? {
        switch self {
        case .fail: "fpof"
        case .ignore: "idof"
        case .remove: "rdof"
        case .continue: "cpof"
        case .keepWaiting: nil
        }
    }

    /// The policy flagged in a stored object (a job's `opts` or its `parent` link): the first of `fpof`, `idof`,
    /// `rdof`, `cpof` set to `true`, or ``keepWaiting`` when none is.
    init(flaggedIn json: JSONValue) {
        self = Self.allCases.first { policy in policy.bullMQFlag.map { json[$0]?.boolValue == true } ?? false }
            ?? .keepWaiting
    }

    /// The BullMQ job option that asks for this policy (`failParentOnFailure`, …), or `nil` for ``keepWaiting``.
    public var bullMQOption: String? {
        switch self {
        case .fail: "failParentOnFailure"
        case .ignore: "ignoreDependencyOnFailure"
        case .remove: "removeDependencyOnFailure"
        case .continue: "continueParentOnFailure"
        case .keepWaiting: nil
        }
    }

    /// The values a flow file's `onFailure` accepts, in documentation order.
    static let fileValues: [FailurePolicy] = [.fail, .ignore, .remove, .continue]
}
