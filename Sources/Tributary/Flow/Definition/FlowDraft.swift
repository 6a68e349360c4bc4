/// A flow as read from a file, before the dependency checks: what the readers of both shapes produce.
struct FlowDraft {
    /// The flow's name, or `nil` when it is missing or invalid (already reported).
    var flow: String?
    /// The key prefix, when the file sets one.
    var prefix: String?
    /// Every node, in file order (pre-order for BullMQ's nested shape).
    var nodes: [DraftNode] = []
    /// Where the nodes are, for problems about the flow as a whole (the empty path for the nested shape).
    var nodesPath: FlowPath = .root
}

/// One node as read from a file. Nodes with problems are kept (with placeholder values) so that other nodes'
/// `needs` still find them and no follow-up problem is invented.
struct DraftNode {
    /// A `needs` entry and where it was written.
    struct Need {
        let id: String
        let path: FlowPath
    }

    let id: String
    /// Where the node is in the file, e.g. `nodes.merge` or `children[1]`.
    let path: FlowPath
    var name: String
    /// The queue, `""` when none could be determined (reported).
    var queue: String
    var data: JSONValue
    var options: JobOptions
    /// Where a custom `jobId` was written, for duplicate reports.
    var jobIdPath: FlowPath
    var needs: [Need]
    var onFailure: FailurePolicy
    var command: [String]?
    /// `when`: the condition that decides whether the node runs or is skipped.
    var condition: FlowCondition? = nil
    /// `map`: the list the node expands over.
    var map: FlowMap? = nil
}

/// The naming rule shared by both shapes.
enum FlowNames {
    /// Why `name` cannot be a flow name, node id or queue name (`what`), or `nil` when it can.
    static func problem(with name: String, what: String) -> String? {
        if name.isEmpty { return "\(what) must not be empty" }
        if name.contains(":") { return "\(what) '\(name)' must not contain ':'" }
        return nil
    }
}
