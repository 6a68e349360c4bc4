/// What ``Queue/searchJobs(_:matching:offset:pageSize:scanLimit:)`` looks for: every given part must match.
public struct JobFilter: Sendable, Hashable {
    /// Part of the job's name (case-insensitive); `nil` or empty matches every name.
    public var name: String?
    /// Part of the job's failure reason (`failedReason`, case-insensitive); `nil` or empty matches every job, a
    /// non-empty one only jobs that have a reason.
    public var failedReason: String?

    /// - Parameters:
    ///   - name: part of the job name to look for.
    ///   - failedReason: part of the failure reason to look for.
    public init(name: String? = nil, failedReason: String? = nil) {
        self.name = name
        self.failedReason = failedReason
    }

    /// Whether the filter keeps every job.
    public var isEmpty: Bool { (name ?? "").isEmpty && (failedReason ?? "").isEmpty }

    func matches(name jobName: String?, failedReason reason: String?) -> Bool {
        if let name, !name.isEmpty {
            guard let jobName, jobName.lowercased().contains(name.lowercased()) else { return false }
        }
        if let failedReason, !failedReason.isEmpty {
            guard let reason, reason.lowercased().contains(failedReason.lowercased()) else { return false }
        }
        return true
    }
}

/// One page of a job search: the jobs found, and where the next page starts.
public struct JobSearchPage: Sendable {
    /// The matching jobs, in the state's order (newest first), at most the page size.
    public let jobs: [Job]
    /// How many jobs of the state this page looked at.
    public let scanned: Int
    /// The position (in the state's order) where the next page continues, `nil` when the whole state was looked at.
    public let nextOffset: Int?
    /// How many jobs the state holds, when the search started.
    public let total: Int
}

extension Queue {
    /// The jobs of one state whose name and failure reason match `filter`, newest first, reading a bounded amount
    /// however large the queue is: at most `scanLimit` ids (and their `name` and `failedReason` fields) per call,
    /// in windows of 500, stopping as soon as `pageSize` jobs match. Continue with ``JobSearchPage/nextOffset``.
    ///
    /// `.waiting` covers the wait list and BullMQ v5's paused list, in that order.
    ///
    /// - Parameters:
    ///   - state: the state to search (not `.unknown`).
    ///   - filter: what to look for; an empty filter pages through the state.
    ///   - offset: where to start, in the state's order (0: the newest job).
    ///   - pageSize: the most jobs to return (at least 1).
    ///   - scanLimit: the most jobs to look at (at least `pageSize`).
    /// - Throws: ``QueueError`` `invalidOption` for `.unknown`, a negative offset or a page size below 1.
    public func searchJobs(_ state: JobState, matching filter: JobFilter = .init(), offset: Int = 0,
                           pageSize: Int = 50, scanLimit: Int = 5000) async throws -> JobSearchPage {
        guard state != .unknown, offset >= 0, pageSize >= 1 else {
            throw QueueError(.invalidOption, "searchJobs needs a known state, an offset ≥ 0 and a page size ≥ 1 "
                + "(got \(state.rawValue), \(offset), \(pageSize))")
        }
        let scanLimit = max(scanLimit, pageSize)
        let sources = Self.searchSources(for: state).map { (key: keys.key($0.kind), isList: $0.isList) }
        let lengths = try await client.pipeline(sources.map {
            RedisCommand($0.isList ? "LLEN" : "ZCARD", .string($0.key))
        }).map { Int($0.int ?? 0) }
        let total = lengths.reduce(0, +)
        var position = offset
        var scanned = 0
        var found: [String] = []
        let window = 500
        while position < total, scanned < scanLimit, found.count < pageSize {
            // Which source holds `position`, and where in it.
            var local = position
            var sourceIndex = 0
            while sourceIndex < lengths.count, local >= lengths[sourceIndex] {
                local -= lengths[sourceIndex]
                sourceIndex += 1
            }
            guard sourceIndex < sources.count else { break }
            let source = sources[sourceIndex]
            let end = local + min(window, scanLimit - scanned) - 1
            let command = source.isList
                ? RedisCommand("LRANGE", .string(source.key), .integer(Int64(local)), .integer(Int64(end)))
                : RedisCommand("ZREVRANGE", .string(source.key), .integer(Int64(local)), .integer(Int64(end)))
            let ids = (try await client.send(command).array ?? []).compactMap(\.string)
            if ids.isEmpty { break }
            var fields: [RESPValue] = []
            if !filter.isEmpty {
                fields = try await client.pipeline(ids.map {
                    RedisCommand("HMGET", .string(keys.job($0)), "name", "failedReason")
                })
            }
            for (index, id) in ids.enumerated() {
                position += 1
                scanned += 1
                if filter.isEmpty {
                    found.append(id)
                } else {
                    let values = fields[index].array ?? []
                    if values.count == 2, filter.matches(name: values[0].string, failedReason: values[1].string) {
                        found.append(id)
                    }
                }
                if found.count == pageSize { break }
            }
        }
        let jobs = try await loadJobs(found)
        return JobSearchPage(jobs: jobs, scanned: scanned, nextOffset: position < total ? position : nil, total: total)
    }

    /// The keys that hold a state's ids, in the order a search reads them.
    private static func searchSources(for state: JobState) -> [(kind: QueueKeys.Kind, isList: Bool)] {
        switch state {
        case .waiting: return [(.wait, true), (.paused, true)]
        case .active: return [(.active, true)]
        case .delayed: return [(.delayed, false)]
        case .prioritized: return [(.prioritized, false)]
        case .completed: return [(.completed, false)]
        case .failed: return [(.failed, false)]
        case .waitingChildren: return [(.waitingChildren, false)]
        case .unknown: return []
        }
    }
}
