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

    static func run(_ job: Job, limits: DataLimits = .default) async throws -> JSONValue {
        guard let text = job.fields["flowMap"], let map = FlowMap(stored: text) else {
            throw UnrecoverableError("job \(job.id) has an invalid flowMap field: expected a map as in a flow file's \"map\"")
        }
        let node = job.flowNodeId ?? job.id
        let total: Int
        if let stored = job.fields["mapTotal"].flatMap(Int.init), job.fields["mapExpanded"].flatMap(Int.init) == stored {
            total = stored
            if job.fields["mapRerun"] != nil {
                // Retried or redriven: the items without a result run again; the others keep theirs.
                let items = try list(of: map, inputs: job.inputs, skipped: job.skippedInputs, node: node)
                guard items.count == total else {
                    throw UnrecoverableError("map node '\(node)': cannot re-run its failed items: '\(map.itemsDescription)' "
                        + "now has \(items.count) items, the map was expanded over \(total)")
                }
                try await rerunItemsWithoutResult(job, items: items, map: map)
            }
        } else {
            let items = try list(of: map, inputs: job.inputs, skipped: job.skippedInputs, node: node)
            if items.isEmpty { return [] }
            if let limit = limits.mapItems, items.count > limit {
                throw UnrecoverableError("map node '\(node)': '\(map.itemsDescription)' has \(DataLimits.count(items.count)) items, "
                    + "over the limit of \(DataLimits.count(limit)) (DataLimits.mapItems, --max-map-items); no item was added")
            }
            try await expand(job, items: items, map: map)
            total = items.count
        }
        // Wait for the pending items (also after a worker died between the last chunk and this call).
        do {
            try await job.moveToWaitingChildren()   // throws WaitingChildrenError while items are pending
        } catch is UnrecoverableError {
            // Items fail under `ignore`, never `fail`: only a hand-made child can get here.
        }
        return try await result(job, map: map, total: total, node: node)
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
        let client = try job.runningHandle("map expansion").queue.client
        let fixed: [RedisArgument] = [
            .string(job.queue.jobKeyPrefix), .string(job.id), "", .integer(Int64(items.count)),
            .integer(Int64(map.maxConcurrency ?? 0)), .integer(EpochClock.milliseconds()),
        ] + itemTemplate(job)
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

    /// Sends the items that have no result (not in the map job's `:processed`, not pending) back to run, chunk by
    /// chunk (`rerunMapItems.lua`); the last call takes the `mapRerun` mark off. Returns how many run again.
    @discardableResult
    static func rerunItemsWithoutResult(_ job: Job, items: [JSONValue], map: FlowMap) async throws -> Int {
        let client = try job.runningHandle("map rerun").queue.client
        let replies = try await client.pipeline([
            RedisCommand("HKEYS", .string(job.key + ":processed")), RedisCommand("SMEMBERS", .string(job.key + ":dependencies")),
        ])
        var settled = Set<String>()
        for reply in replies { for key in reply.array ?? [] { if let key = key.string { settled.insert(key) } } }
        let missing = items.indices.filter { !settled.contains(job.key + "/\($0)") }
        let template = itemTemplate(job)
        let script = QueueScripts.rerunMapItems
        var rerun = 0
        var start = 0
        repeat {
            let end = min(start + chunkItems, missing.count)
            var arguments: [RedisArgument] = [
                .string(job.queue.jobKeyPrefix), .string(job.id), .integer(EpochClock.milliseconds()),
                end == missing.count ? "1" : "0",
            ] + template
            for index in missing[start..<end] {
                arguments.append(.integer(Int64(index)))
                arguments.append(.string(items[index].serialized()))
            }
            let reply = try await client.run(script.script, keys: script.keys(for: job.queue), arguments: arguments)
            guard let count = reply.int, count >= 0 else {
                throw QueueError(.unexpectedScriptResult, "rerunMapItems returned \(reply) for map job \(job.id)")
            }
            rerun += Int(count)
            start = end
        } while start < missing.count
        return rerun
    }

    /// What every item job of the map gets: name, data, opts (the map's, with the map job as parent, failures
    /// ignored by the parent), the parent link, and the extra fields (run, node, command).
    private static func itemTemplate(_ job: Job) -> [RedisArgument] {
        var options = job.options
        options.jobId = nil
        options.onFailure = .ignore
        options.delay = .zero
        options.priority = 0
        options.lifo = false
        var stored = options.storedJSON.objectValue ?? [:]
        stored["parent"] = ["id": .string(job.id), "queue": .string(job.queue.qualifiedName)]
        let parent: JSONValue = ["id": .string(job.id), "queueKey": .string(job.queue.qualifiedName), "idof": true]
        var extra: JSONObject = [:]
        for field in ["flowRun", "flowNode", "command", "encryptResult"] { extra[field] = job.fields[field].map(JSONValue.string) }
        // The data as stored: encrypted fields stay encrypted in the items (the handler's copy is decrypted).
        return [
            .string(job.name), .string(job.fields["data"] ?? job.data.serialized()), .string(JSONValue.object(stored).serialized()),
            .string(parent.serialized()), .string(extra.isEmpty ? "" : JSONValue.object(extra).serialized()),
        ]
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
        if let runKey = job.fields["flowRunKey"] {
            // Written (or, after a re-run that fixed them, taken away) for dependents.
            _ = try await client.send(failures.isEmpty
                ? RedisCommand("HDEL", .string(runKey), .string("mapFailures:\(node)"))
                : RedisCommand("HSET", .string(runKey), .string("mapFailures:\(node)"),
                               .string(JSONValue.array(failures.map(\.json)).serialized())))
        }
        return .array(results)
    }
}
