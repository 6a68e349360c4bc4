import Logging

/// A node of a BullMQ-style flow tree: a job, and the children that must complete before it runs.
public struct FlowJob: Sendable {
    /// The job's name.
    public var name: String
    /// The queue the job goes to; children may live in other queues.
    public var queueName: String
    /// The job's data.
    public var data: JSONValue
    /// The job's options; without a `jobId`, the node gets a random 32-hex-digit id (as Python bullmq does).
    public var options: JobOptions
    /// The jobs this one waits for.
    public var children: [FlowJob]

    /// Creates a node.
    public init(_ name: String, queue: String, data: JSONValue = .null, options: JobOptions = .init(),
                children: [FlowJob] = []) {
        self.name = name
        self.queueName = queue
        self.data = data
        self.options = options
        self.children = children
    }
}

/// A flow as stored: each node's job and its children.
public struct FlowNode: Sendable {
    /// The node's job as added.
    public let job: Job
    /// The node's children, in the order given.
    public let children: [FlowNode]
}

/// Adds BullMQ-compatible flow trees atomically: every node is stored, in one MULTI/EXEC whose every reply is
/// checked, or the add fails.
///
/// A parent waits in `waiting-children` with its pending children in `:dependencies`; each child carries BullMQ's
/// `parentKey` and `parent` fields, so Node and Python BullMQ workers can run the tree as well as Tributary's.
///
/// ```swift
/// let flows = FlowProducer(client: client)
/// let report = try await flows.add(FlowJob("report", queue: "reports", children: [
///     FlowJob("extract", queue: "io", data: ["region": "us"]),
///     FlowJob("extract", queue: "io", data: ["region": "eu"]),
/// ]))
/// ```
public final class FlowProducer: Sendable {
    /// The client flows are added with.
    public let client: RedisClient
    /// The key prefix of every queue in the flows.
    public let prefix: String
    /// The limits on each job's data, and on the data and number of jobs of one tree or run
    /// (``DataLimits/default`` unless given).
    public let limits: DataLimits
    /// The keys that encrypt the fields a node's ``JobOptions/encrypt`` names; `nil` when none are configured (a
    /// flow that asks for encryption is then refused before anything is stored).
    public let cipher: FieldCipher?

    /// Creates a producer.
    ///
    /// - Parameters:
    ///   - client: the connection flows are added with.
    ///   - prefix: the key prefix of every queue in the flows.
    ///   - limits: the limits on each job's data and on a tree or run.
    ///   - cipher: the keys that encrypt the fields the nodes' ``JobOptions/encrypt`` name.
    public init(client: RedisClient, prefix: String = "bull", limits: DataLimits = .default, cipher: FieldCipher? = nil) {
        self.client = client
        self.prefix = prefix
        self.limits = limits
        self.cipher = cipher
    }

    /// Adds one tree atomically.
    ///
    /// - Throws: ``QueueError`` (`invalidQueueName`, `invalidOption` naming the node) and ``FieldCipherError``
    ///   (fields to encrypt without keys, or missing) before anything is stored; ``RedisClientError``
    ///   `transactionFailed` if Redis refused part of the transaction.
    @discardableResult
    public func add(_ flow: FlowJob) async throws -> FlowNode {
        try await addBulk([flow])[0]
    }

    /// Adds several trees in one transaction.
    ///
    /// - Throws: ``QueueError`` `limitExceeded` before anything is stored when a tree is over ``limits``.
    @discardableResult
    public func addBulk(_ flows: [FlowJob]) async throws -> [FlowNode] {
        let timestamp = EpochClock.milliseconds()
        var transaction = FlowTransaction(prefix: prefix)
        var planned: [PlannedNode] = []
        for flow in flows {
            let tree = try plan(flow, path: flow.name, parent: nil, timestamp: timestamp, into: &transaction)
            try limits.checkRun("flow tree '\(flow.name)'", jobs: tree.dataSizes(path: flow.name))
            planned.append(tree)
        }
        guard !planned.isEmpty else { return [] }
        guard case .stored(let replies) = try await transaction.run(on: client) else {
            throw QueueError(.unexpectedScriptResult, "checkFlow reported a run record for a flow tree")
        }
        return try planned.map { try $0.node(replies: replies) }
    }

    /// A node with its id decided and the position of its command in the transaction.
    private struct PlannedNode {
        let index: Int
        let keys: QueueKeys
        let request: JobRequest
        let timestamp: Int64
        let prepared: Queue.PreparedAdd
        let children: [PlannedNode]

        /// Each node of the tree, described by its path, with the size of its data.
        func dataSizes(path: String) -> [(job: String, dataBytes: Int)] {
            var sizes = [(job: "flow node \(path)", dataBytes: prepared.dataText.utf8.count)]
            for (offset, child) in children.enumerated() {
                sizes += child.dataSizes(path: "\(path) > \(child.request.name)[\(offset)]")
            }
            return sizes
        }

        func node(replies: [RESPValue]) throws -> FlowNode {
            let reply = replies[index]
            if let owner = Job(deduplicatedAddReply: reply, queue: keys) {
                // A deduplicated leaf: the job holding its id is not linked to the parent, as in BullMQ.
                return FlowNode(job: owner, children: [])
            }
            guard case .bulkString = reply, let id = reply.string else {
                if reply.int == -5 {
                    throw QueueError(.parentNotFound, "flow node '\(request.name)' in queue '\(keys.queueName)': its parent does not exist")
                }
                throw QueueError(.unexpectedScriptResult,
                                 "adding flow node '\(request.name)' to queue '\(keys.queueName)' returned \(reply)")
            }
            return FlowNode(job: Job(added: request, id: id, queue: keys, timestamp: timestamp, prepared: prepared),
                            children: try children.map { try $0.node(replies: replies) })
        }
    }

    /// Validates a node, gives it an id, and appends its command (parents before their children, as the child's
    /// script checks that its parent exists).
    private func plan(_ flow: FlowJob, path: String, parent: (id: String, queue: QueueKeys)?, timestamp: Int64,
                      into transaction: inout FlowTransaction) throws -> PlannedNode {
        try FlowProducer.validateQueueName(flow.queueName, node: path)
        do {
            try flow.options.validate()
        } catch let error as QueueError {
            throw QueueError(error.code, "flow node \(path): \(error.message)")
        }
        if flow.options.deduplication != nil, !flow.children.isEmpty {
            throw QueueError(.invalidOption, "flow node \(path): deduplication is for nodes without children (a "
                + "deduplicated parent would leave its children without one), as in BullMQ 6")
        }
        let request = try JobRequest(flow.name, data: flow.data, options: flow.options)
            .sealed(with: cipher, what: "flow node \(path)")
        // A generated id is passed to the script but, as in BullMQ, not stored in the job's opts.
        let id = flow.options.jobId ?? RandomID.hex32()
        let keys = QueueKeys(prefix: prefix, queueName: flow.queueName)
        let prepared = Queue.prepareAdd(
            request, keys: keys, timestamp: timestamp, jobId: id, parents: parent.map { [$0] } ?? [],
            waitsForChildren: !flow.children.isEmpty, guardKey: transaction.guardKey)
        let index = transaction.addJob(keys, arguments: prepared.arguments, jobKey: keys.job(id), fresh: flow.options.jobId == nil)
        let children = try flow.children.enumerated().map { offset, child in
            try plan(child, path: "\(path) > \(child.name)[\(offset)]", parent: (id, keys), timestamp: timestamp,
                     into: &transaction)
        }
        return PlannedNode(index: index, keys: keys, request: request, timestamp: timestamp, prepared: prepared, children: children)
    }

    /// The reserved name under which flow runs and guards are kept (`<prefix>:__flows__:…`).
    static let reservedQueueName = "__flows__"

    /// Checks that a flow node's queue name can be used.
    static func validateQueueName(_ name: String, node: String) throws {
        guard !name.isEmpty, !name.contains(":") else {
            throw QueueError(.invalidQueueName, "flow node \(node): queue name '\(name)' must be non-empty and must not contain ':'")
        }
        guard name != reservedQueueName else {
            throw QueueError(.invalidQueueName, "flow node \(node): queue name '\(name)' is reserved for flow runs")
        }
    }
}
