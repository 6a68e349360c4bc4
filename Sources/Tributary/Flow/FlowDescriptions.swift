/// Readable text for flows and runs, for `print` and logs: one line per node with its state.

extension FlowRun: CustomStringConvertible {
    /// The run's header (id, flow, status, node count), then one line per node, each after the nodes it needs:
    ///
    /// ```text
    /// flow run r1 (mr): failed, 3 nodes
    ///   list     completed
    ///   convert  failed: map node 'convert': 1 of 6 items failed, 0 tolerated: [4] item 4 is bad  (needs list)
    ///   merge    failed  (needs convert)
    /// ```
    public var description: String {
        let width = nodes.map(\.id.count).max() ?? 0
        let lines = nodes.map { node in
            "  " + node.id + String(repeating: " ", count: width - node.id.count) + "  " + node.description
        }
        let count = nodes.count == 1 ? "1 node" : "\(nodes.count) nodes"
        return (["flow run \(id) (\(flow)): \(status.rawValue), \(count)"] + lines).joined(separator: "\n")
    }
}

extension FlowRunNode: CustomStringConvertible {
    /// The node's state (its recorded outcome when there is one, such as `skipped`), why it failed, and what it
    /// needs: `failed: disk full  (needs list)`.
    public var description: String {
        var text = outcome ?? state.rawValue
        if text == "failed" || state == .failed, let reason = job?.failedReason, !reason.isEmpty { text += ": \(reason)" }
        if !needs.isEmpty { text += "  (needs \(needs.joined(separator: ", ")))" }
        return text
    }
}

extension FlowTree: CustomStringConvertible {
    /// One line per node, children indented under their parent: `name  queue/id  state`, and why a failed job
    /// failed:
    ///
    /// ```text
    /// report  reports/9  waiting-children
    ///   extract  io/7  completed
    ///   extract  io/8  failed: region eu is down
    /// ```
    public var description: String { lines(indent: "").joined(separator: "\n") }

    private func lines(indent: String) -> [String] {
        var line = "\(indent)\(job.name)  \(job.queue.queueName)/\(job.id)  \(state.rawValue)"
        if state == .failed, let reason = failedReason, !reason.isEmpty { line += ": \(reason)" }
        return [line] + children.flatMap { $0.lines(indent: indent + "  ") }
    }
}

extension FlowNode: CustomStringConvertible {
    /// One line per node as added, children indented under their parent: `name  queue/id`.
    public var description: String { lines(indent: "").joined(separator: "\n") }

    private func lines(indent: String) -> [String] {
        ["\(indent)\(job.name)  \(job.queue.queueName)/\(job.id)"] + children.flatMap { $0.lines(indent: indent + "  ") }
    }
}
