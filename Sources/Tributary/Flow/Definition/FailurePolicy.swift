/// What a node's dependents do when the node finally fails (no attempts left).
///
/// In a flow file this is the node's `onFailure`; in BullMQ's nested shape it comes from the four failure options a
/// child may carry (`failParentOnFailure` and friends), which say what happens to its parent.
public enum FailurePolicy: String, Sendable, Equatable, CaseIterable {
    /// Dependents fail too (BullMQ's `failParentOnFailure`, stored as `fpof`). The default of flow files, so a
    /// flow never hangs silently.
    case fail
    /// Dependents run once their other needs are met, and can read the failure (`ignoreDependencyOnFailure`,
    /// stored as `idof`).
    case ignore
    /// Dependents run once their other needs are met; nothing is recorded (`removeDependencyOnFailure`, `rdof`).
    case remove
    /// Dependents start at once, even with other needs still pending (`continueParentOnFailure`, `cpof`).
    case `continue`
    /// BullMQ's behaviour without a flag: dependents wait until the node is retried and completes, or is removed.
    /// Only files in BullMQ's nested shape get it; a flow file's `onFailure` cannot ask for it.
    case keepWaiting

    /// The BullMQ job option that asks for this policy (`failParentOnFailure`, …), or `nil` for ``keepWaiting``.
    public var bullMQOption: String? {
        switch self {
        case .fail: return "failParentOnFailure"
        case .ignore: return "ignoreDependencyOnFailure"
        case .remove: return "removeDependencyOnFailure"
        case .continue: return "continueParentOnFailure"
        case .keepWaiting: return nil
        }
    }

    /// The short flag BullMQ stores in a child's `parent` field for this policy (`fpof`, `idof`, `rdof`, `cpof`),
    /// or `nil` for ``keepWaiting``.
    public var bullMQFlag: String? {
        switch self {
        case .fail: return "fpof"
        case .ignore: return "idof"
        case .remove: return "rdof"
        case .continue: return "cpof"
        case .keepWaiting: return nil
        }
    }

    /// The values a flow file's `onFailure` accepts, in documentation order.
    static let fileValues: [FailurePolicy] = [.fail, .ignore, .remove, .continue]
}
