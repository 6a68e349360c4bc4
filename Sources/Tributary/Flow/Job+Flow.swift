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
    /// needed map nodes failed (``itemFailures``): three reads, pipelined.
    mutating func loadInputs(client: RedisClient) async throws {
        let links = flowInputKeys
        guard !links.isEmpty else { return }
        var commands = [
            RedisCommand("HGETALL", .string(key + ":processed")), RedisCommand("HGETALL", .string(key + ":failed")),
        ]
        if let runKey = fields["flowRunKey"] {
            commands.append(RedisCommand("HMGET", arguments: [.string(runKey)] + links.flatMap { link -> [RedisArgument] in
                [.string("node:\(link.node)"), .string("mapFailures:\(link.node)")]
            }))
        }
        let replies = try await client.pipeline(commands)
        let processed = (replies[0].array ?? []).fieldPairs, failed = (replies[1].array ?? []).fieldPairs
        let recorded = replies.count > 2 ? replies[2].array ?? [] : []
        for (position, (node, jobKey)) in links.enumerated() {
            let outcome = recorded.count > 2 * position ? recorded[2 * position].string : nil
            if outcome == "skipped" {
                skippedInputs.append(node)
            } else if let text = processed[jobKey] {
                inputs[node] = (try? JSONValue.parse(text)) ?? .string(text)
            } else if let reason = failed[jobKey] {
                inputFailures[node] = reason
            }
            if recorded.count > 2 * position + 1, let text = recorded[2 * position + 1].string,
               let failures = MapItemFailure.list(stored: text), !failures.isEmpty {
                itemFailures[node] = failures
                inputFailures[node] = MapItemFailure.summary(failures, of: inputs[node]?.arrayValue?.count)
            }
        }
    }
}
