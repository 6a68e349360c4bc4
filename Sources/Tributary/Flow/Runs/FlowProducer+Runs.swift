extension FlowProducer {
    /// The key of a run's record.
    func runKey(_ runId: String) -> String { "\(prefix):\(Self.reservedQueueName):run:\(runId)" }
    /// The sorted set of run ids by creation time.
    var runsIndexKey: String { "\(prefix):\(Self.reservedQueueName):runs" }

    /// Submits a compiled flow as a run: every node becomes a job, stored in one transaction (all or none).
    ///
    /// Each node's job id is `<runId>.<nodeId>` unless its options give a `jobId`. A node needed by one node is a
    /// BullMQ flow child (any BullMQ worker can run it); a node needed by several is a shared DAG node, which
    /// only Tributary workers complete correctly (see ``JobParent``). Nodes get the run and node ids and, when they
    /// need others, the job keys of their inputs, so handlers read ``Job/inputs`` by node id.
    ///
    /// A node whose options carry a ``JobOptions/deduplication`` id (an id and a ttl only) holds the id when no job
    /// does; when another job holds it, the node's job is stored all the same and takes that job's outcome instead
    /// of running its handler (``FlowRunView/Node/deduplicatedBy``; docs/flow-file-format.md, "Deduplicated nodes").
    ///
    /// - Parameters:
    ///   - plan: the compiled flow; its `prefix`, if any, must equal this producer's.
    ///   - runId: the run id (non-empty, no ':'); submitting an existing id again changes nothing and returns the
    ///     existing run's receipt with `created == false`. A random id when `nil`.
    /// - Throws: ``QueueError`` `invalidOption`/`invalidQueueName` (nothing stored; also for a node's deduplication
    ///   with `extend`, `replace` or `keepLastIfActive`), `flowRejected` when a job
    ///   id is taken or a key has the wrong type (nothing stored), `limitExceeded` when the run is over ``limits``
    ///   (nodes, a node's data, all the data, a literal map's items; nothing stored); ``FieldCipherError`` when a
    ///   node asks to encrypt a field its data lacks, or this producer has no ``cipher`` (nothing stored).
    @discardableResult
    public func submit(_ plan: FlowPlan, runId: String? = nil) async throws -> FlowRunReceipt {
        try await submit(plan, runId: runId, schedule: nil)
    }

    /// ``submit(_:runId:)`` for a run fired by the flow schedule `schedule` (kept in the run record's `schedule`
    /// field, which ``listFlowRuns(flow:limit:)`` reports).
    func submit(_ plan: FlowPlan, runId: String?, schedule: String?) async throws -> FlowRunReceipt {
        if let wanted = plan.prefix, wanted != prefix {
            throw QueueError(.invalidQueueName, "flow '\(plan.flow)' asks for prefix '\(wanted)' but this producer uses '\(prefix)'")
        }
        let runId = runId ?? String(RandomID.hex32().prefix(20))
        guard !runId.isEmpty, !runId.contains(":") else {
            throw QueueError(.invalidOption, "run id '\(runId)' must be non-empty and must not contain ':'")
        }
        try DataLimits.check(count: plan.nodes.count, against: limits.runNodes, "flow '\(plan.flow)'", things: "nodes",
                             setting: "DataLimits.runNodes, --max-nodes")
        for node in plan.nodes {
            if let map = node.map, case .literal(let items) = map.items {
                try DataLimits.check(count: items.count, against: limits.mapItems, "map node '\(node.id)'", things: "items",
                                     setting: "DataLimits.mapItems, --max-map-items")
            }
        }
        if let existing = try await existingReceipt(runId) { return existing }

        let jobIds = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.id, $0.options.jobId ?? "\(runId).\($0.id)") })
        let queues = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.id, QueueKeys(prefix: prefix, queueName: $0.queue)) })
        let timestamp = EpochClock.milliseconds()
        var transaction = FlowTransaction(prefix: prefix)
        transaction.run = (key: runKey(runId), fields: [
            "id": .string(runId), "flow": .string(plan.flow), "prefix": .string(prefix),
            "createdAt": .string(String(timestamp)), "state": "running",
            // With finishedNodes and unsuccessfulNodes (kept by the scripts), lets a finishing node skip settling a
            // run that cannot have ended (Scripts/lua/includes/runProgress.lua).
            "nodeCount": .string(String(plan.nodes.count)),
            "roots": .string(JSONValue.array(plan.roots.map { .string($0) }).serialized()),
            "nodes": .string(JSONValue.array(plan.nodes.map { node in
                ["id": .string(node.id), "name": .string(node.name), "queue": .string(node.queue),
                 "jobId": .string(jobIds[node.id]!), "needs": .array(node.needs.map { .string($0) })]
            }).serialized()),
        ], indexKey: runsIndexKey, createdAt: timestamp)
        if let schedule { transaction.run?.fields["schedule"] = .string(schedule) }

        // In plan order, so that independent nodes are taken in file order; a guarded add does not require its
        // dependents to exist yet.
        var dataSizes: [(job: String, dataBytes: Int)] = []
        dataSizes.reserveCapacity(plan.nodes.count)
        for node in plan.nodes {
            try Self.validateQueueName(node.queue, node: "'\(node.id)'")
            var options = node.options
            options.onFailure = node.onFailure
            do {
                try options.validate()
            } catch let error as QueueError {
                throw QueueError(error.code, "flow node '\(node.id)': \(error.message)")
            }
            if let deduplication = options.deduplication, deduplication.extend || deduplication.replace
                || deduplication.keepLastIfActive {
                throw QueueError(.invalidOption, "flow node '\(node.id)': the deduplication of a flow node takes an id "
                    + "and a ttl only (extend, replace and keepLastIfActive would drop or move the job its dependents "
                    + "wait for)")
            }
            var extra: JSONObject = ["flowRun": .string(runId), "flowNode": .string(node.id),
                                     "flowRunKey": .string(runKey(runId))]
            if let condition = node.condition { extra["flowWhen"] = .string(condition.json.serialized()) }
            if let map = node.map { extra["flowMap"] = .string(map.json.serialized()) }
            if !node.needs.isEmpty {
                extra["flowInputs"] = .string(JSONValue.object(JSONObject(uniqueKeysWithValues: node.needs.map {
                    ($0, JSONValue.string(queues[$0]!.job(jobIds[$0]!)))
                })).serialized())
            }
            if let command = node.command {
                extra["command"] = .string(JSONValue.array(command.map { .string($0) }).serialized())
            }
            let keys = queues[node.id]!, jobId = jobIds[node.id]!
            let request = try JobRequest(node.name, data: node.data, options: options)
                .sealed(with: cipher, what: "flow node '\(node.id)'")
            var arguments = Queue.addArguments(
                request, keys: keys, timestamp: timestamp,
                jobId: jobId, parents: node.dependents.map { (jobIds[$0]!, queues[$0]!) },
                waitsForChildren: !node.needs.isEmpty, extraFields: extra, guardKey: transaction.guardKey)
            if let deduplication = options.deduplication, case .object(var object) = deduplication.storedJSON {
                // A node whose id another job holds is stored all the same and takes that job's outcome (addJobs.lua).
                object["follow"] = true
                arguments[Queue.deduplicationArgumentIndex] = .string(JSONValue.object(object).serialized())
            }
            if case .string(let dataText) = arguments[4] { dataSizes.append((job: "node '\(node.id)'", dataBytes: dataText.utf8.count)) }
            transaction.run?.fields["spec:\(node.id)"] = .string(Self.nodeSpec(arguments))
            _ = transaction.addJob(keys, arguments: arguments, jobKey: keys.job(jobId), fresh: true)
        }
        try limits.checkRun("run \(runId) of flow '\(plan.flow)'", jobs: dataSizes)
        switch try await transaction.run(on: client) {
        case .runExists:
            return try await existingReceipt(runId) ?? FlowRunReceipt(runId: runId, created: false, jobIds: [:])
        case .stored(let replies):
            for (reply, node) in zip(replies, plan.nodes) where reply.string == nil {
                throw QueueError(.unexpectedScriptResult, "adding node '\(node.id)' of run \(runId) returned \(reply)")
            }
            return FlowRunReceipt(runId: runId, created: true, jobIds: jobIds)
        }
    }

    /// What a run record keeps of a node's job (`spec:<nodeId>`), so that `retryFlowRun.lua` can store the job
    /// again after it was removed (cancel, retention): `addJob.lua`'s name, data, opts, delay, priority, push
    /// command, parent key, parent, extra fields and parents, as a JSON array of strings.
    static func nodeSpec(_ addArguments: [RedisArgument]) -> String {
        let kept = [2, 4, 5, 6, 7, 8, 9, 10, 12, 13].map { index -> JSONValue in
            switch addArguments[index] {
            case .string(let text): return .string(text)
            case .integer(let value): return .string(String(value))
            case .double(let value): return .string(String(value))
            case .bytes(let bytes): return .string(String(decoding: bytes, as: UTF8.self))
            }
        }
        return JSONValue.array(kept).serialized()
    }

    /// The receipt of an existing run, or `nil`.
    private func existingReceipt(_ runId: String) async throws -> FlowRunReceipt? {
        let nodes = try await client.send(RedisCommand("HGET", .string(runKey(runId)), "nodes"))
        guard let text = nodes.string else { return nil }
        let jobIds = StoredRunNode.parse(text).map { ($0.id, $0.jobId) }
        return FlowRunReceipt(runId: runId, created: false, jobIds: Dictionary(jobIds) { first, _ in first })
    }

    /// Rebuilds a run: every node once, in dependency order, with its state and its job as stored.
    ///
    /// - Parameters:
    ///   - runId: the run's id.
    ///   - detail: how much of each node's job to read: every field (`.full`, the default), or only what a
    ///     drawing of the run shows (`.summary`: much less to read and keep for runs of many nodes).
    /// - Returns: `nil` when no run has this id (under this producer's prefix).
    public func getFlowRun(_ runId: String, jobs detail: FlowRunJobDetail = .full) async throws -> FlowRun? {
        // The record's node list first (it never changes), then the record and every state in one step.
        let nodeList = try await client.send(RedisCommand("HGET", .string(runKey(runId)), "nodes"))
        guard let nodeText = nodeList.string else { return nil }
        let entries = StoredRunNode.parse(nodeText)
        var dependents: [String: [String]] = [:]
        for entry in entries { for need in entry.needs { dependents[need, default: []].append(entry.id) } }
        let jobs = entries.map { (queue: QueueKeys(prefix: prefix, queueName: $0.queue), id: $0.jobId) }
        let (states, fields) = try await Queue.statesAndRecord(of: jobs, runKey: runKey(runId), client: client)
        guard !fields.isEmpty else { return nil }
        let read: [Job?]
        switch detail {
        case .full:
            let hashes = try await client.pipeline(jobs.map { RedisCommand("HGETALL", .string($0.queue.job($0.id))) })
            read = jobs.indices.map { Job(id: jobs[$0].id, queue: jobs[$0].queue, flatFields: hashes[$0].array ?? []) }
        case .summary:
            let names = Job.summaryFieldNames.map { RedisArgument.string($0) }
            let values = try await client.pipeline(jobs.map { RedisCommand("HMGET", arguments: [.string($0.queue.job($0.id))] + names) })
            read = jobs.indices.map { Job(id: jobs[$0].id, queue: jobs[$0].queue, summaryValues: values[$0].array ?? []) }
        }
        let nodes = entries.indices.map { index in
            let entry = entries[index]
            return FlowRunNode(id: entry.id, name: entry.name, queue: entry.queue, jobId: entry.jobId,
                               needs: entry.needs, dependents: dependents[entry.id] ?? [], state: states[index],
                               job: read[index], outcome: fields["node:\(entry.id)"])
        }
        let roots = fields["roots"].flatMap { try? JSONValue.parse($0) }?.arrayValue?.compactMap(\.stringValue) ?? []
        return FlowRun(id: runId, flow: fields["flow"] ?? "", prefix: prefix,
                       createdAt: fields["createdAt"].flatMap { Int64($0) } ?? 0,
                       cancelledAt: fields["cancelledAt"].flatMap { Int64($0) },
                       finishedAt: fields["finishedOn"].flatMap { Int64($0) },
                       settledStatus: fields["state"].flatMap(FlowRunStatus.init(rawValue:)),
                       roots: roots, nodes: nodes)
    }

    /// The newest runs first, optionally only those of one flow.
    public func listFlowRuns(flow: String? = nil, limit: Int = 100) async throws -> [FlowRunSummary] {
        var summaries: [FlowRunSummary] = []
        var start = 0
        let page = max(limit, 50)
        while summaries.count < limit {
            let ids = try await client.send(RedisCommand(
                "ZREVRANGE", .string(runsIndexKey), .integer(Int64(start)), .integer(Int64(start + page - 1))
            )).array?.compactMap(\.string) ?? []
            if ids.isEmpty { break }
            let replies = try await client.pipeline(ids.map {
                RedisCommand("HMGET", .string(runKey($0)), "flow", "createdAt", "cancelledAt", "nodes", "schedule")
            })
            for (id, reply) in zip(ids, replies) {
                let values = reply.array ?? []
                guard values.count == 5, let name = values[0].string else { continue }
                if let flow, flow != name { continue }
                let nodeCount = values[3].string.flatMap { try? JSONValue.parse($0) }?.arrayValue?.count ?? 0
                summaries.append(FlowRunSummary(id: id, flow: name, createdAt: values[1].string.flatMap { Int64($0) } ?? 0,
                                                cancelledAt: values[2].string.flatMap { Int64($0) }, nodeCount: nodeCount,
                                                schedule: values[4].string))
                if summaries.count == limit { break }
            }
            start += page
        }
        return summaries
    }

    /// Cancels a run: its pending nodes (waiting, delayed, prioritized, waiting for children) are removed in one
    /// step, active nodes are left to finish (an attempt of theirs that fails is not retried: it fails for good),
    /// and the run is marked cancelled.
    ///
    /// - Throws: ``QueueError`` `runNotFound`; `runFinished` when the run has completed, failed or was cancelled
    ///   already (nothing is changed).
    @discardableResult
    public func cancelFlowRun(_ runId: String) async throws -> FlowRunCancellation {
        guard let run = try await getFlowRun(runId, jobs: .summary) else {
            throw QueueError(.runNotFound, "no flow run '\(runId)' under prefix '\(prefix)'")
        }
        func finished(_ how: String) -> QueueError {
            QueueError(.runFinished, "flow run '\(runId)' \(how); nothing was changed")
        }
        switch run.status {
        case .running: break
        case .cancelled: throw finished("was cancelled already")
        case .completed, .failed: throw finished("has \(run.status.rawValue)")
        }
        var arguments: [RedisArgument] = [.string(runKey(runId)), .integer(EpochClock.milliseconds())]
        for node in run.nodes.reversed() {
            arguments += [.string("\(prefix):\(node.queue)"), .string(node.jobId)]
        }
        let reply = try await client.run(QueueScripts.cancelFlowRun.script, keys: [], arguments: arguments,
                                         routingKey: runKey(runId))
        guard let counts = reply.array, counts.count == 2, let removed = counts[0].int, let left = counts[1].int else {
            if reply.int == -1 { throw QueueError(.runNotFound, "no flow run '\(runId)' under prefix '\(prefix)'") }
            // It finished between the read above and the script (which checks atomically).
            if reply.int == -2 { throw finished("has finished (no node is pending or active)") }
            if reply.int == -3 { throw finished("was cancelled already") }
            throw QueueError(.unexpectedScriptResult, "cancelFlowRun returned \(reply)")
        }
        return FlowRunCancellation(removed: Int(removed), left: Int(left))
    }
}

/// A node as the run record stores it (`nodes`, written by ``FlowProducer/submit(_:runId:)``).
private struct StoredRunNode {
    let id, name, queue, jobId: String
    let needs: [String]

    /// The nodes of a run record's `nodes` field; entries missing an id, queue or job id are skipped.
    static func parse(_ text: String?) -> [StoredRunNode] {
        let stored = text.flatMap { try? JSONValue.parse($0) }?.arrayValue ?? []
        return stored.compactMap { node in
            guard let id = node["id"]?.stringValue, let queue = node["queue"]?.stringValue,
                  let jobId = node["jobId"]?.stringValue else { return nil }
            return StoredRunNode(id: id, name: node["name"]?.stringValue ?? id, queue: queue, jobId: jobId,
                                 needs: node["needs"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }
}
