/// One queue's examination: reads every state list and set page by page, scans the job hashes and locks,
/// collects candidates, and confirms them atomically (doctorInspect.lua) before reporting them.
struct QueueExamination {
    let doctor: QueueDoctor
    let keys: QueueKeys
    var client: RedisClient { doctor.client }

    /// The state lists and sets, in doctorInspect's KEYS order; bit `i` of a membership entry is `containers[i]`.
    static let containers: [(kind: QueueKeys.Kind, isList: Bool)] = [
        (.wait, true), (.paused, true), (.active, true), (.prioritized, false), (.delayed, false),
        (.completed, false), (.failed, false), (.waitingChildren, false),
    ]
    static let containerMask: UInt16 = 0xFF
    /// Bits of the states whose jobs have not finished.
    static let unfinishedMask: UInt16 = 0b1001_1111
    static let activeBit: UInt16 = 1 << 2
    static let waitingChildrenBit: UInt16 = 1 << 7
    /// Set when SCAN saw the job's hash.
    static let seenBit: UInt16 = 1 << 15
    static let pageSize = 5000

    /// The Redis type each queue key must have, when it exists.
    static let expectedTypes: [QueueKeys.Kind: String] = [
        .wait: "list", .paused: "list", .active: "list", .prioritized: "zset", .delayed: "zset",
        .completed: "zset", .failed: "zset", .waitingChildren: "zset", .id: "string", .meta: "hash",
        .events: "stream", .marker: "zset", .stalled: "set", .limiter: "string", .priorityCounter: "string",
        .stalledCheck: "string", .jobSchedulers: "zset",
    ]

    /// Runs the examination; returns how many jobs and keys it saw.
    func run(into collector: inout FindingCollector) async throws -> (jobs: Int, keys: Int) {
        let readable = try await checkKeyTypes(into: &collector)
        var membership: [String: UInt16] = [:]
        for (bit, container) in Self.containers.enumerated() where readable.contains(container.kind) {
            try await readContainer(container.kind, isList: container.isList) { id in
                membership[id, default: 0] |= UInt16(1) << UInt16(bit)
            }
        }
        var candidates = Candidates()
        let scan = try await scanJobs(&membership, &candidates)
        try await checkMembers(membership, &candidates)
        try await confirm(candidates, into: &collector)
        return scan
    }

    // MARK: Reading

    private func checkKeyTypes(into collector: inout FindingCollector) async throws -> Set<QueueKeys.Kind> {
        let kinds = QueueKeys.Kind.allCases.filter { Self.expectedTypes[$0] != nil }
        let types = try await client.pipeline(kinds.map { RedisCommand("TYPE", .string(keys.key($0))) })
        var readable: Set<QueueKeys.Kind> = []
        for (kind, reply) in zip(kinds, types) {
            let type = reply.string ?? "none"
            if type == "none" || type == Self.expectedTypes[kind] {
                readable.insert(kind)
            } else {
                collector.add(DoctorFinding(
                    .wrongKeyType, queue: keys.queueName, jobId: nil, key: keys.key(kind),
                    detail: "is a \(type), must be a \(Self.expectedTypes[kind]!); every script that uses it fails"))
            }
        }
        return readable
    }

    private func readContainer(_ kind: QueueKeys.Kind, isList: Bool, _ body: (String) -> Void) async throws {
        var start = 0
        while true {
            let command = isList ? "LRANGE" : "ZRANGE"
            let page = try await client.send(RedisCommand(
                command, .string(keys.key(kind)), .integer(Int64(start)), .integer(Int64(start + Self.pageSize - 1))
            )).array ?? []
            for member in page { if let id = member.string { body(id) } }
            if page.count < Self.pageSize { return }
            start += Self.pageSize
        }
    }

    /// Scans the queue's hashes (jobs) and strings (locks); notes jobs in no state and unfinished children whose
    /// parent is gone.
    private func scanJobs(_ membership: inout [String: UInt16], _ candidates: inout Candidates) async throws
        -> (jobs: Int, keys: Int) {
        let pattern = Queue.globEscaped(keys.jobKeyPrefix) + "*"
        let reserved = Set(QueueKeys.Kind.allCases.map(\.rawValue))
        var jobs = 0, scanned = 0
        try await client.scan(matching: pattern) { found in
            scanned += found.count
            var hashIds: [String] = []
            for key in found {
                let rest = String(key.dropFirst(keys.jobKeyPrefix.count))
                if rest.hasSuffix(":lock") {
                    let id = String(rest.dropLast(":lock".count))
                    candidates.locks.append(id)
                } else if !reserved.contains(rest), !Self.isJobSubkey(rest) {
                    hashIds.append(rest)
                }
            }
            guard !hashIds.isEmpty else { return }
            let fields = try await client.pipeline(hashIds.map {
                RedisCommand("HMGET", .string(keys.job($0)), "timestamp", "name", "data", "opts", "parentKey", "parents")
            })
            var parentChecks: [(id: String, parent: String)] = []
            for (id, reply) in zip(hashIds, fields) {
                let values = reply.array?.map(\.string) ?? []
                guard values.count == 6, values[0...3].contains(where: { $0 != nil }) else { continue }  // not a job
                if id.hasPrefix("repeat:"), values[0] == nil { continue }  // a job scheduler's hash
                jobs += 1
                let bits = membership[id, default: 0]
                membership[id] = bits | Self.seenBit
                if bits & Self.containerMask == 0 { candidates.noState.append(id) }
                guard bits & Self.unfinishedMask != 0 else { continue }
                for parent in Self.parentKeys(parentKey: values[4], parents: values[5]) {
                    parentChecks.append((id, parent))
                }
            }
            if !parentChecks.isEmpty {
                let exists = try await client.pipeline(parentChecks.map { RedisCommand("EXISTS", .string($0.parent)) })
                for (check, reply) in zip(parentChecks, exists) where reply.int == 0 {
                    candidates.orphans.append(check)
                }
            }
        }
        return (jobs, scanned)
    }

    /// Keys under a job that are not job hashes: logs, dependencies, children's results, failures, locks.
    static func isJobSubkey(_ rest: String) -> Bool {
        for suffix in [":logs", ":dependencies", ":processed", ":failed", ":unsuccessful", ":lock", ":held"]
        where rest.hasSuffix(suffix) {
            return true
        }
        return false
    }

    /// The parent job keys a job reports to (`parentKey`, or each entry of Tributary's `parents`).
    static func parentKeys(parentKey: String?, parents: String?) -> [String] {
        if let parents, let entries = try? JSONValue.parse(parents).arrayValue {
            return entries.compactMap { entry in
                guard let queueKey = entry["queueKey"]?.stringValue, let id = entry["id"]?.stringValue else { return nil }
                return queueKey + ":" + id
            }
        }
        if let parentKey, !parentKey.isEmpty { return [parentKey] }
        return []
    }

    /// Checks each listed id: several states, no hash, parents with dangling or no dependencies, active jobs
    /// without locks.
    private func checkMembers(_ membership: [String: UInt16], _ candidates: inout Candidates) async throws {
        var parents: [String] = [], active: [String] = []
        for (id, bits) in membership {
            let states = bits & Self.containerMask
            if states.nonzeroBitCount > 1 { candidates.severalStates.append(id) }
            if states != 0, bits & Self.seenBit == 0 { candidates.noHash.append(id) }
            if bits & Self.waitingChildrenBit != 0, bits & Self.seenBit != 0 { parents.append(id) }
            if bits & Self.activeBit != 0, bits & Self.seenBit != 0 { active.append(id) }
        }
        for chunk in parents.chunked(1000) {
            let sizes = try await client.pipeline(chunk.map { RedisCommand("SCARD", .string(keys.job($0) + ":dependencies")) })
            for (id, size) in zip(chunk, sizes) {
                if size.int == 0 {
                    candidates.stuckParents.append(id)
                } else {
                    try await checkDependencies(of: id, &candidates)
                }
            }
        }
        let cutoff = EpochClock.milliseconds() - doctor.lockDuration.milliseconds
        for chunk in active.chunked(1000) {
            let replies = try await client.pipeline(chunk.flatMap {
                [RedisCommand("EXISTS", .string(keys.job($0) + ":lock")), RedisCommand("HGET", .string(keys.job($0)), "processedOn")]
            })
            for (index, id) in chunk.enumerated() where replies[2 * index].int == 0 {
                let processedOn = replies[2 * index + 1].string.flatMap { Int64($0) } ?? 0
                if processedOn < cutoff { candidates.unlockedActive.append(id) }
            }
        }
        candidates.locks.removeAll { (membership[$0] ?? 0) & Self.activeBit != 0 }
    }

    private func checkDependencies(of parentId: String, _ candidates: inout Candidates) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send(RedisCommand(
                "SSCAN", .string(keys.job(parentId) + ":dependencies"), .string(cursor), "COUNT", 1000))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { return }
            cursor = next
            let children = parts[1].array?.compactMap(\.string) ?? []
            let exists = try await client.pipeline(children.map { RedisCommand("EXISTS", .string($0)) })
            for (child, reply) in zip(children, exists) where reply.int == 0 {
                candidates.missingDependencies.append((parentId, child))
            }
        } while cursor != "0"
    }
}

extension Array {
    /// The array cut into consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
