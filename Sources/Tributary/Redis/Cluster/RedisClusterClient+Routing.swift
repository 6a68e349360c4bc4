/// Routing: each command to the master of its slot, redirects followed, outages ridden out.
extension RedisClusterClient {
    /// How many MOVED/ASK/TRYAGAIN/CLUSTERDOWN replies one command may meet before the client gives up.
    static let redirectLimit = 16

    /// Whether an error means that the command surely did not reach the node (it is down, or its connection had
    /// just closed), so that sending it to another node cannot run it twice.
    private static func wasNotSent(_ error: RedisClientError) -> Bool {
        error.code == .connectFailed || error.code == .disconnected || (error.code == .connectionClosed && error.commandWasNotSent)
    }

    /// Runs `operation` on the master that owns `slot`, following redirects and riding out an unreachable master:
    /// MOVED updates the slot map and goes to the named master; ASK goes there once with ASKING (or waits, for an
    /// operation that cannot take ASKING, until the slot's migration ends); TRYAGAIN and CLUSTERDOWN wait a moment
    /// and reload the map. An unreachable master makes the client reload the map from another node and try the
    /// owner it names: once for a client that fails fast, until it answers for one that waits for reconnects.
    func routed<Reply: Sendable>(
        slot: Int?, what: @autoclosure () -> String, acceptsAsking: Bool = false, readOnly: Bool = false,
        _ operation: (RedisNodeClient, _ asking: Bool) async throws -> Reply
    ) async throws -> Reply {
        var target: Endpoint?
        var asking = false
        var redirects = 0
        var outages = 0
        while true {
            let endpoint = try target ?? owner(of: slot)
            do {
                return try await operation(try await node(endpoint), asking)
            } catch let error as RedisServerError {
                let host: String
                if case .tcp(let name, _) = endpoint { host = name } else { host = "127.0.0.1" }
                guard let redirect = ClusterRedirect(error, currentHost: host) else { throw error }
                redirects += 1
                guard redirects <= Self.redirectLimit else {
                    throw RedisClientError(
                        .clusterUnavailable,
                        "The Redis Cluster redirected \(what()) \(redirects) times without settling (last: \(error.message))",
                        underlying: error)
                }
                switch redirect {
                case .moved(let slot, let master):
                    learn(slot: slot, movedTo: master)
                    target = master
                    asking = false
                case .ask(_, let node) where acceptsAsking:
                    target = node
                    asking = true
                case .ask, .later:
                    target = nil
                    asking = false
                    try await Task.sleep(for: .milliseconds(min(50 * redirects, 1000)))
                    await reload()
                }
            } catch let error as RedisClientError
                where Self.wasNotSent(error) || (readOnly && error.code == .connectionClosed && outages < 3) {
                // A read whose connection dropped under it (its master died) is as good as not sent.
                outages += 1
                target = nil
                asking = false
                logger.debug("a Redis Cluster node is unreachable; reloading the slot map", metadata: [
                    "redis.endpoint": "\(endpoint)", "redis.attempt": "\(outages)", "error": "\(error.message)",
                ])
                if configuration.disconnectedBehavior == .failFast {
                    // One more try, at whichever master the cluster names now.
                    guard outages == 1 else { throw error }
                    await reload(avoiding: endpoint)
                    continue
                }
                try await Task.sleep(for: configuration.reconnect.delay(forAttempt: outages))
                await reload(avoiding: endpoint)
            }
        }
    }

    /// The slot of all keys of `commands`, or `nil` when none has keys.
    ///
    /// - Throws: ``RedisClientError`` `crossSlot` naming two keys and their slots.
    static func commonSlot(of commands: [RedisCommand], what: String) throws -> Int? {
        var first: (key: String, slot: Int)?
        for command in commands {
            for key in command.keys {
                let slot = HashSlot.of(key)
                guard let known = first else {
                    first = (key, slot)
                    continue
                }
                if known.slot != slot {
                    throw RedisClientError(
                        .crossSlot,
                        "\(what) touches keys in different hash slots ('\(known.key)' in slot \(known.slot), '\(key)' in slot \(slot)); "
                            + "on a Redis Cluster they need one hash tag, such as a key prefix '{name}'. Nothing was sent")
                }
            }
        }
        return first?.slot
    }

    // MARK: Commands

    /// Sends one command to the owner of its slot (a blocking one on a dedicated connection of that node).
    func send(_ command: RedisCommand) async throws -> RESPValue {
        let slot = try Self.commonSlot(of: [command], what: command.name)
        return try await routed(slot: slot, what: command.name, acceptsAsking: !command.isBlocking,
                                readOnly: command.isReadOnly) { node, asking in
            guard asking else { return try await node.send(command) }
            let replies = try await node.pipeline([RedisCommand("ASKING"), command])
            if case .error(let error) = replies[1] { throw error }
            return replies[1]
        }
    }

    /// ``send(_:)`` returning an error reply as ``RESPValue/error(_:)`` instead of throwing it (for pipelines).
    private func sendReturningErrors(_ command: RedisCommand) async throws -> RESPValue {
        do {
            return try await send(command)
        } catch let error as RedisServerError where error.code != "NOPERM" && error.code != "NOAUTH" {
            return .error(error)
        } catch let error as RedisClientError where error.code == .crossSlot {
            return .error(RedisServerError(message: "CROSSSLOT \(error.message)"))
        }
    }

    /// Runs a script on the owner of its keys' slot, loading it there on NOSCRIPT.
    func run(_ script: RedisScript, command: RedisCommand) async throws -> RESPValue {
        let slot = try Self.commonSlot(of: [command], what: "script \(script.sha1.prefix(8))")
        return try await routed(slot: slot, what: "a script") { node, _ in
            try await node.run(script, command: command)
        }
    }

    /// Splits a pipeline by node: each node gets its commands, in their order, as one pipeline, all nodes at once;
    /// the replies come back in the order of `commands`. A command redirected (MOVED, ASK…) or whose node was
    /// unreachable before it was sent is sent again on its own, to where the cluster says.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        var replies = [RESPValue?](repeating: nil, count: commands.count)
        var groups: [Endpoint: [Int]] = [:]
        for (index, command) in commands.enumerated() {
            do {
                let slot = try Self.commonSlot(of: [command], what: command.name)
                groups[try owner(of: slot), default: []].append(index)
            } catch let error as RedisClientError where error.code == .crossSlot {
                replies[index] = .error(RedisServerError(message: "CROSSSLOT \(error.message)"))
            }
        }
        let results = try await withThrowingTaskGroup(of: ([Int], [RESPValue]?).self) { group in
            for (endpoint, indices) in groups {
                group.addTask {
                    do {
                        return (indices, try await self.node(endpoint).pipeline(indices.map { commands[$0] }))
                    } catch let error as RedisClientError
                        where Self.wasNotSent(error) || (error.code == .connectionClosed && indices.allSatisfy { commands[$0].isReadOnly }) {
                        return (indices, nil)  // sent again one by one below
                    }
                }
            }
            var all: [([Int], [RESPValue]?)] = []
            for try await result in group { all.append(result) }
            return all
        }
        for (indices, groupReplies) in results {
            for (position, index) in indices.enumerated() {
                if let reply = groupReplies?[position], ClusterRedirect(reply: reply) == nil {
                    replies[index] = reply
                } else {
                    replies[index] = try await sendReturningErrors(commands[index])
                }
            }
        }
        return replies.map { $0! }
    }

    /// Sends `commands` as one uninterrupted pipeline to the owner of their common slot (a MULTI/EXEC). When a
    /// command is redirected while queuing, EXEC aborts and nothing ran: the whole pipeline goes again to where the
    /// cluster says.
    ///
    /// - Throws: ``RedisClientError`` `crossSlot` before sending anything when the keys span slots.
    func pipelineTogether(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let slot = try Self.commonSlot(of: commands, what: "A transaction")
        return try await routed(slot: slot, what: "a transaction") { node, _ in
            let replies = try await node.pipeline(commands)
            for reply in replies {
                if case .error(let error) = reply, ClusterRedirect(error) != nil { throw error }
            }
            return replies
        }
    }

    /// Sends commands, the first a blocking one, on a dedicated connection of the owner of their common slot. A
    /// redirect of the first (the others share its slot, so they were redirected too, and nothing ran) sends them
    /// all again where the cluster says.
    func sendBlocking(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        let slot = try Self.commonSlot(of: commands, what: "A blocking pipeline")
        return try await routed(slot: slot, what: commands.first?.name ?? "a blocking pipeline") { node, _ in
            let replies = try await node.sendBlocking(commands)
            if case .error(let error)? = replies.first, ClusterRedirect(error) != nil { throw error }
            return replies
        }
    }

    /// Sends `command` to every master of the slot map.
    func sendToEachMaster(_ command: RedisCommand) async throws -> [RESPValue] {
        var replies: [RESPValue] = []
        for master in masters {
            replies.append(try await node(master).send(command))
        }
        return replies
    }

    /// The servers a SCAN must visit: the owner of the pattern's slot when the pattern fixes one, every master
    /// otherwise.
    func scanTargets(for command: RedisCommand) async throws -> [@Sendable (RedisCommand) async throws -> RESPValue] {
        let endpoints = try command.scanSlot.map { [try owner(of: $0)] } ?? masters
        var targets: [@Sendable (RedisCommand) async throws -> RESPValue] = []
        for endpoint in endpoints {
            let node = try await node(endpoint)
            targets.append({ try await node.send($0) })
        }
        return targets
    }
}
