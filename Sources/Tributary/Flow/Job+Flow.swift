/// A link from a flow node to one of its dependents (its parents): BullMQ's `parent` field, or one entry of
/// Tributary's `parents` field for a node several dependents need.
public struct JobParent: Sendable, Hashable {
    /// The dependent's job id.
    public let id: String
    /// The dependent's qualified queue name, `<prefix>:<queue>`.
    public let queueKey: String
    /// What the dependent does when this job fails for good.
    public let onFailure: FailurePolicy

    /// The dependent's job key.
    public var key: String { "\(queueKey):\(id)" }

    init?(stored json: JSONValue) {
        guard let id = json["id"]?.stringValue, let queueKey = json["queueKey"]?.stringValue else { return nil }
        self.id = id
        self.queueKey = queueKey
        self.onFailure = FailurePolicy(flaggedIn: json)
    }
}

extension Job {
    /// The flow run this job belongs to, for jobs added from a ``FlowPlan``.
    public var flowRunId: String? { fields["flowRun"] }
    /// The job's node id within its flow run.
    public var flowNodeId: String? { fields["flowNode"] }

    /// The command of a command step (a flow file node's `run`), which only workers that allow commands execute.
    public var command: [String]? {
        guard let text = fields["command"], let items = (try? JSONValue.parse(text))?.arrayValue else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count && !strings.isEmpty ? strings : nil
    }

    /// The job's dependents in a flow: none, BullMQ's single parent, or several for a shared DAG node.
    public var parents: [JobParent] {
        if let text = fields["parents"], let items = (try? JSONValue.parse(text))?.arrayValue {
            return items.compactMap(JobParent.init(stored:))
        }
        if let text = fields["parent"], let json = try? JSONValue.parse(text), let parent = JobParent(stored: json) {
            return [parent]
        }
        if let parentKey, let cut = parentKey.lastIndex(of: ":") {
            return JobParent(stored: ["id": .string(String(parentKey[parentKey.index(after: cut)...])),
                                      "queueKey": .string(String(parentKey[..<cut]))]).map { [$0] } ?? []
        }
        return []
    }

    /// For a node of a flow run, the job keys of the nodes it needs, by node id.
    var flowInputKeys: [(node: String, jobKey: String)] {
        guard let text = fields["flowInputs"], let object = (try? JSONValue.parse(text))?.objectValue else { return [] }
        return object.compactMap { node, key in key.stringValue.map { (node, $0) } }
    }

    /// Reads the results and ignored failures of the nodes this flow-run node needs into ``inputs`` and
    /// ``inputFailures``, and from the run record which of them were skipped (``skippedInputs``) and which items of
    /// needed map nodes failed (``itemFailures``). The script that handed the job to the worker has usually read all
    /// of it already (``prefetchedInputs``); otherwise three reads, pipelined.
    mutating func loadInputs(client: RedisClient) async throws {
        let links = flowInputKeys
        guard !links.isEmpty else { return }
        let reads: FlowInputReads
        if let prefetched = prefetchedInputs {
            reads = prefetched
            prefetchedInputs = nil
        } else {
            reads = try await FlowInputReads.read(for: self, nodes: links.map(\.node), client: client)
        }
        for (node, jobKey) in links {
            let recorded = reads.recorded[node]
            if recorded?.outcome == "skipped" {
                skippedInputs.append(node)
            } else if let text = reads.processed[jobKey] {
                inputs[node] = (try? JSONValue.parse(text)) ?? .string(text)
            } else if let reason = reads.failed[jobKey] {
                inputFailures[node] = reason
            }
            if let text = recorded?.mapFailures, let failures = MapItemFailure.list(stored: text), !failures.isEmpty {
                itemFailures[node] = failures
                inputFailures[node] = MapItemFailure.summary(failures, of: inputs[node]?.arrayValue?.count)
            }
        }
    }
}

/// What a flow-run node's worker reads before running it: the results (`:processed`) and ignored failures
/// (`:failed`) of the nodes it needs, and what the run record says of each of them.
struct FlowInputReads: Sendable {
    /// Results by the needed job's key.
    var processed: [String: String]
    /// Failure reasons by the needed job's key.
    var failed: [String: String]
    /// By needed node id: its outcome recorded in the run (`skipped`, …) and its stored map-item failures.
    var recorded: [String: (outcome: String?, mapFailures: String?)]

    /// Reads `{processed, failed, {node, outcome, mapFailures, ...}}` as the fetch scripts return it
    /// (flowInputReads.lua).
    init?(reply: RESPValue) {
        guard let parts = reply.array, parts.count == 3 else { return nil }
        processed = (parts[0].array ?? []).fieldPairs
        failed = (parts[1].array ?? []).fieldPairs
        recorded = [:]
        let flat = parts[2].array ?? []
        var index = 0
        while index + 2 < flat.count {
            if let node = flat[index].string { recorded[node] = (flat[index + 1].string, flat[index + 2].string) }
            index += 3
        }
    }

    private init(processed: [String: String], failed: [String: String],
                 recorded: [String: (outcome: String?, mapFailures: String?)]) {
        self.processed = processed
        self.failed = failed
        self.recorded = recorded
    }

    /// The same reads made by the worker, three commands pipelined, for a job that came without them.
    static func read(for job: Job, nodes: [String], client: RedisClient) async throws -> FlowInputReads {
        var commands = [
            RedisCommand("HGETALL", .string(job.key + ":processed")), RedisCommand("HGETALL", .string(job.key + ":failed")),
        ]
        if let runKey = job.fields["flowRunKey"] {
            commands.append(RedisCommand("HMGET", arguments: [.string(runKey)] + nodes.flatMap { node -> [RedisArgument] in
                [.string("node:\(node)"), .string("mapFailures:\(node)")]
            }))
        }
        let replies = try await client.pipeline(commands)
        let values = replies.count > 2 ? replies[2].array ?? [] : []
        var recorded: [String: (outcome: String?, mapFailures: String?)] = [:]
        for (position, node) in nodes.enumerated() where values.count > 2 * position + 1 {
            recorded[node] = (values[2 * position].string, values[2 * position + 1].string)
        }
        return FlowInputReads(processed: (replies[0].array ?? []).fieldPairs, failed: (replies[1].array ?? []).fieldPairs,
                              recorded: recorded)
    }
}
