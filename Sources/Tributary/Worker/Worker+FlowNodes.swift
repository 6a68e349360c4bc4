/// Conditions and map nodes of flow runs, decided by the worker that takes the node once its inputs are complete
/// (docs/flows.md, "Conditions" and "Map nodes").
extension Worker {
    /// Skips the node when its `when` (field `flowWhen`) does not hold for its inputs: `skipNode.lua` completes it
    /// without running, with no attempt counted. Returns whether it was skipped.
    ///
    /// - Throws: ``UnrecoverableError`` when the stored condition is not valid (a job written by hand).
    func skipUnlessConditionHolds(_ job: Job, token: String) async throws -> Bool {
        guard let text = job.fields["flowWhen"] else { return false }
        guard let condition = FlowConditionReader.stored(text) else {
            throw UnrecoverableError("job \(job.id) has an invalid flowWhen field \(text): expected a condition as in a flow file's \"when\"")
        }
        var inputs = job.inputs
        for node in job.skippedInputs { inputs.removeValue(forKey: node) }
        if condition.holds(for: inputs) { return false }
        let (keepCount, keepAge) = job.options.removeOnComplete.scriptArguments
        let script = QueueScripts.skipNode
        let reply = try await client.run(script.script, keys: script.keys(for: keys), arguments: [
            .string(keys.jobKeyPrefix), .string(job.id), .string(token), .integer(EpochClock.milliseconds()),
            .integer(keepCount), .integer(keepAge),
        ])
        forget(job, token: token)
        if let code = reply.int, code < 0 {
            throw QueueError(.unexpectedScriptResult, "skipNode refused job \(job.id) (status \(code)); its lock may be lost")
        }
        logger.debug("flow node skipped: its condition does not hold",
                     metadata: ["job": "\(job.id)", "flowRun": "\(job.flowRunId ?? "")", "flowNode": "\(job.flowNodeId ?? "")"])
        eventSink.yield(.completed(job, .null))
        return true
    }
}

/// What the worker runs instead of a handler for a map node's job (field `flowMap`): the first time, it expands the
/// list into item jobs and waits for them (waiting-children); when it runs again, every item has finished and it
/// returns their results in item order, or fails when more items failed than tolerated.
enum MapNodeRunner {
    /// Most items per expansion call, and most bytes of item JSON, so that no call holds Redis for long.
    static let chunkItems = 100
    static let chunkBytes = 64 * 1024

    static func run(_ job: Job) async throws -> JSONValue {
        guard let text = job.fields["flowMap"], let map = FlowMap(stored: text) else {
            throw UnrecoverableError("job \(job.id) has an invalid flowMap field: expected a map as in a flow file's \"map\"")
        }
        let node = job.flowNodeId ?? job.id
        if let total = job.fields["mapTotal"].flatMap(Int.init), job.fields["mapExpanded"].flatMap(Int.init) == total {
            return try await result(job, map: map, total: total, node: node)
        }
        let items = try list(of: map, inputs: job.inputs, skipped: job.skippedInputs, node: node)
        if items.isEmpty { return [] }
        try await expand(job, items: items, map: map)
        do {
            try await job.moveToWaitingChildren()   // throws WaitingChildrenError while items are pending
        } catch is UnrecoverableError {
            // Items fail under `ignore`, never `fail`: only a hand-made child can get here.
        }
        return try await result(job, map: map, total: items.count, node: node)
    }

    /// The list to map over: the literal, or the value at the path in the needed node's result.
    static func list(of map: FlowMap, inputs: [String: JSONValue], skipped: [String], node: String) throws -> [JSONValue] {
        switch map.items {
        case .literal(let items):
            return items
        case .input(let source, let path):
            guard let result = inputs[source] else {
                let why = skipped.contains(source) ? "was skipped" : "has no result (it failed)"
                throw UnrecoverableError("map node '\(node)': its items come from '\(map.itemsDescription)', but '\(source)' \(why)")
            }
            guard let value = FlowValuePath.follow(path, in: result) else {
                throw UnrecoverableError("map node '\(node)': '\(map.itemsDescription)' is missing from the result of '\(source)'")
            }
            guard let items = value.arrayValue else {
                throw UnrecoverableError("map node '\(node)': '\(map.itemsDescription)' must be an array of items, found \(value.kindForMessage)")
            }
            return items
        }
    }

    /// Adds the items not yet added, chunk by chunk, from the count the map job has stored (`mapExpanded`);
    /// `maxChunks` stops early (tests use it to play a worker that dies in the middle).
    static func expand(_ job: Job, items: [JSONValue], map: FlowMap, maxChunks: Int = .max) async throws {
        let handle = try job.runningHandle("map expansion")
        let client = handle.queue.client
        var options = job.options
        options.jobId = nil
        options.onFailure = .ignore
        options.delay = .zero
        options.priority = 0
        options.lifo = false
        guard case .object(var stored) = options.storedJSON else { return }
        stored["parent"] = ["id": .string(job.id), "queue": .string(job.queue.qualifiedName)]
        let parent: JSONValue = ["id": .string(job.id), "queueKey": .string(job.queue.qualifiedName), "idof": true]
        var extra: JSONObject = [:]
        for field in ["flowRun", "flowNode", "command"] { extra[field] = job.fields[field].map(JSONValue.string) }
        let fixed: [RedisArgument] = [
            .string(job.queue.jobKeyPrefix), .string(job.id), "", .integer(Int64(items.count)),
            .integer(Int64(map.maxConcurrency ?? 0)), .integer(EpochClock.milliseconds()), .string(job.name),
            .string(job.data.serialized()), .string(JSONValue.object(stored).serialized()), .string(parent.serialized()),
            .string(extra.isEmpty ? "" : JSONValue.object(extra).serialized()),
        ]
        let script = QueueScripts.expandMap
        var next = job.fields["mapExpanded"].flatMap(Int.init) ?? 0
        var chunks = 0
        while next < items.count, chunks < maxChunks {
            chunks += 1
            var chunk: [RedisArgument] = []
            var bytes = 0
            while next + chunk.count < items.count, chunk.count < chunkItems, bytes < chunkBytes {
                let text = items[next + chunk.count].serialized()
                bytes += text.utf8.count
                chunk.append(.string(text))
            }
            var arguments = fixed
            arguments[2] = .integer(Int64(next))
            let reply = try await client.run(script.script, keys: script.keys(for: job.queue), arguments: arguments + chunk)
            guard let expanded = reply.int, expanded >= 0 else {
                throw QueueError(.unexpectedScriptResult, "expandMap returned \(reply) for map job \(job.id)")
            }
            next = Int(expanded)   // another worker may have gone further: go on from where it is
        }
    }

    /// The items' results in item order (`null` for failed ones), or a failure when more failed than tolerated.
    /// Tolerated failures go into the run record (`mapFailures:<node>`), where dependents read them.
    private static func result(_ job: Job, map: FlowMap, total: Int, node: String) async throws -> JSONValue {
        let client = try job.runningHandle("map result").queue.client
        let replies = try await client.pipeline([
            RedisCommand("HGETALL", .string(job.key + ":processed")), RedisCommand("HGETALL", .string(job.key + ":failed")),
        ])
        let itemPrefix = job.key + "/"
        func index(_ key: String) -> Int? {
            guard key.hasPrefix(itemPrefix), let index = Int(key.dropFirst(itemPrefix.count)), index >= 0,
                  index < total else { return nil }
            return index
        }
        var results = [JSONValue](repeating: .null, count: total)
        for (key, text) in (replies[0].array ?? []).fieldPairs {
            if let index = index(key) { results[index] = (try? JSONValue.parse(text)) ?? .string(text) }
        }
        let failures = (replies[1].array ?? []).fieldPairs.compactMap { key, reason in
            index(key).map { MapItemFailure(index: $0, reason: reason) }
        }.sorted { $0.index < $1.index }
        let tolerated = map.toleratedCount(of: total)
        if failures.count > tolerated {
            throw UnrecoverableError("map node '\(node)': \(failures.count) of \(total) items failed, \(tolerated) tolerated: "
                + MapItemFailure.listed(failures))
        }
        if !failures.isEmpty, let runKey = job.fields["flowRunKey"] {
            _ = try await client.send(RedisCommand("HSET", .string(runKey), .string("mapFailures:\(node)"),
                                                   .string(JSONValue.array(failures.map(\.json)).serialized())))
        }
        return .array(results)
    }
}
