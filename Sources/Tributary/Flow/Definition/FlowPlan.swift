/// A compiled flow: every node with its queue, data, merged options and dependencies, in an order in which each
/// node comes after every node it needs.
///
/// Plans come from ``FlowCompiler``, which checks the whole definition first, so a plan is always consistent:
/// ids are unique, every `needs` names a node of the plan, there is no cycle, and `dependents` mirrors `needs`.
/// A plan is a value; submitting it does not change it.
public struct FlowPlan: Sendable, Equatable {
    /// The flow's name (`flow` in a flow file, the root's `name` in BullMQ's nested shape).
    public let flow: String
    /// The key prefix the file asks for (`prefix`), or `nil` to use the caller's.
    public let prefix: String?
    /// Every node, each after all the nodes it needs. Among nodes free to go in any order, file order is kept.
    public let nodes: [Node]
    /// The sinks (nodes nothing needs), in file order. A file with several sinks is still one plan.
    public let roots: [String]
    /// Position of each node in ``nodes``, by id (compared by Unicode scalars, as JSON keys are).
    private let index: [JSONKey: Int]

    /// The node with this id (compared by Unicode scalars, as JSON keys are), or `nil`.
    public func node(_ id: String) -> Node? {
        index[JSONKey(id)].map { nodes[$0] }
    }

    /// One job of the flow.
    public struct Node: Sendable, Equatable {
        /// The node id: unique in the plan, non-empty, without ':'.
        public let id: String
        /// The job name handed to workers; defaults to the id.
        public let name: String
        /// The queue the job goes to.
        public let queue: String
        /// The job's data; `{}` when the file gives none (as BullMQ stores a job without data).
        public let data: JSONValue
        /// The file's `defaults` merged with the node's `opts`, the node winning key by key. Its `onFailure` is the
        /// node's ``onFailure``.
        public let options: JobOptions
        /// The ids of the nodes this one needs, in file order.
        public let needs: [String]
        /// The ids of the nodes that need this one, in file order.
        public let dependents: [String]
        /// What the dependents do when this node finally fails.
        public let onFailure: FailurePolicy
        /// A command step (`run` in a flow file): the program and its arguments, or `nil`.
        public let command: [String]?
        /// `when`: the condition deciding, once the inputs are complete, whether the node runs or is skipped.
        public let condition: FlowCondition?
        /// `map`: the list the node expands over, one job per item; `nil` for an ordinary node.
        public let map: FlowMap?
    }

    /// Creates a plan from nodes already in dependency order; the compiler guarantees consistency.
    init(flow: String, prefix: String?, nodes: [Node], roots: [String]) {
        self.flow = flow
        self.prefix = prefix
        self.nodes = nodes
        self.roots = roots
        self.index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { (JSONKey($1.id), $0) })
    }
}
