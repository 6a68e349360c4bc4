extension FlowPlan {
    /// The problem this flow would have on a Redis Cluster (code `crossSlot`), or `nil` when it has none: its
    /// queues and its run records must share one hash slot, which takes a hash tag in the prefix (see
    /// ``ClusterSlots``).
    ///
    /// - Parameters:
    ///   - source: the file, for the problem's messages.
    ///   - prefix: the prefix used when the file names none (``prefix`` wins).
    public func clusterProblem(source: String, prefix: String) -> FlowFileError? {
        let queues = nodes.map(\.queue)
        guard let message = ClusterSlots.flowProblem(flow: flow, prefix: self.prefix ?? prefix, queues: queues) else {
            return nil
        }
        return FlowFileError(source: source, problems: [
            FlowFileProblem(.crossSlot, message, source: source, path: self.prefix == nil ? "" : "prefix"),
        ])
    }
}
