/// Checks each flow run record under the prefix against its jobs: a node whose job is gone must have a recorded
/// outcome (`node:<id>` in the record) unless the run was cancelled, and a cancelled run must have no node
/// still waiting to run.
struct RunExamination {
    let doctor: QueueDoctor
    /// Only runs with a node in one of these queues, or every run when `nil`.
    let queues: Set<String>?
    private var client: RedisClient { doctor.client }

    private struct Node {
        let id, queue, jobId: String
    }

    /// Examines every run; returns how many it examined.
    func run(into collector: inout FindingCollector) async throws -> Int {
        let flows = QueueKeys(prefix: doctor.prefix, queueName: FlowProducer.reservedQueueName)
        let runsKey = flows.qualifiedName + ":runs"
        var examined = 0, start = 0
        while true {
            let ids = try await client.send(RedisCommand(
                "ZRANGE", .string(runsKey), .integer(Int64(start)), .integer(Int64(start + 499)))).array?.compactMap(\.string) ?? []
            for runId in ids {
                if try await examine(runId, recordKey: flows.qualifiedName + ":run:" + runId, into: &collector) {
                    examined += 1
                }
            }
            if ids.count < 500 { return examined }
            start += 500
        }
    }

    private func examine(_ runId: String, recordKey: String, into collector: inout FindingCollector) async throws -> Bool {
        let fields = (try await client.send(RedisCommand("HGETALL", .string(recordKey))).array ?? []).fieldPairs
        guard !fields.isEmpty else { return false }
        func mismatch(_ detail: String) {
            collector.add(DoctorFinding(.runMismatch, queue: FlowProducer.reservedQueueName, jobId: nil, key: recordKey,
                                        detail: "run \(runId): \(detail)"))
        }
        guard let text = fields["nodes"], let stored = try? JSONValue.parse(text).arrayValue else {
            mismatch("its record has no readable node list")
            return true
        }
        let nodes = stored.compactMap { entry -> Node? in
            guard let id = entry["id"]?.stringValue, let queue = entry["queue"]?.stringValue,
                  let jobId = entry["jobId"]?.stringValue else { return nil }
            return Node(id: id, queue: queue, jobId: jobId)
        }
        if let queues, !nodes.contains(where: { queues.contains($0.queue) }) { return false }
        let cancelled = fields["cancelledAt"] != nil
        let exists = try await client.pipeline(nodes.map {
            RedisCommand("EXISTS", .string(QueueKeys(prefix: doctor.prefix, queueName: $0.queue).job($0.jobId)))
        })
        var present: [Node] = []
        for (node, reply) in zip(nodes, exists) {
            if reply.int == 1 {
                present.append(node)
            } else if !cancelled, fields["node:" + node.id] == nil {
                mismatch("node '\(node.id)' (job \(node.jobId) in queue '\(node.queue)') is gone and the run "
                    + "recorded no outcome for it")
            }
        }
        guard cancelled else { return true }
        let pendingBits: UInt16 = 0b1001_1011  // wait, paused, prioritized, delayed, waiting-children
        for (queue, group) in Dictionary(grouping: present, by: \.queue) {
            let examination = QueueExamination(doctor: doctor, keys: QueueKeys(prefix: doctor.prefix, queueName: queue))
            let inspected = try await examination.inspect(group.map(\.jobId))
            for node in group {
                guard let job = inspected[node.jobId], job.states & pendingBits != 0 else { continue }
                mismatch("the run was cancelled but node '\(node.id)' is still \(job.stateNames.joined(separator: ", "))")
            }
        }
        return true
    }
}
