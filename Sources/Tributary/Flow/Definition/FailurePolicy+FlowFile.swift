extension FailurePolicy {
    /// The BullMQ job option that asks for this policy in a FlowJob's `opts` (`failParentOnFailure`, …), or `nil`
    /// for ``keepWaiting``.
    var bullMQOption: String? {
        switch self {
        case .fail: return "failParentOnFailure"
        case .ignore: return "ignoreDependencyOnFailure"
        case .remove: return "removeDependencyOnFailure"
        case .continue: return "continueParentOnFailure"
        case .keepWaiting: return nil
        }
    }

    /// The values a flow file's `onFailure` accepts, in documentation order. ``keepWaiting`` is not among them:
    /// a flow file cannot ask for a failure to leave its dependents waiting.
    static let fileValues: [FailurePolicy] = [.fail, .ignore, .remove, .continue]
}
