/// A run as one line of a list: what its record says, without reading its nodes.
public struct FlowRunListing: Sendable, Equatable {
    /// The run id.
    public let id: String
    /// The flow's name.
    public let flow: String
    /// When the run was submitted (ms since 1970).
    public let createdAt: Int64
    /// When it settled or was cancelled, if it has.
    public let finishedAt: Int64?
    /// `running` until the run settles; then the status written when it settled, or `cancelled`.
    public let status: FlowRunStatus
    /// How many nodes the run has.
    public let nodeCount: Int
    /// How many nodes have finished for good (completed, failed, skipped, cancelled or removed).
    public let finishedNodes: Int
    /// How many of the finished nodes did not succeed.
    public let unsuccessfulNodes: Int
    /// The schedule that submitted the run, if one did.
    public let schedule: String?
}

/// One page of ``FlowProducer/flowRunPage(flow:offset:limit:scanLimit:)``.
public struct FlowRunListingPage: Sendable {
    /// The runs, newest first.
    public let runs: [FlowRunListing]
    /// Where the next page starts in the index of runs, `nil` at the end.
    public let nextOffset: Int?
    /// How many runs exist (of every flow).
    public let total: Int
}

extension FlowProducer {
    /// The newest runs first, optionally of one flow, reading a bounded amount: the counters of at most
    /// `scanLimit` run records (one HMGET each, pipelined), never their node lists, however large the runs are.
    ///
    /// A run's ``FlowRunListing/status`` comes from its record: it is `running` until its last node finishes and
    /// the run settles (``getFlowRun(_:jobs:)`` derives the status from the nodes instead).
    ///
    /// - Parameters:
    ///   - flow: only runs of this flow; `nil` for all.
    ///   - offset: where to start in the index of runs (0: the newest).
    ///   - limit: the most runs to return (at least 1).
    ///   - scanLimit: the most run records to look at (at least `limit`).
    public func flowRunPage(flow: String? = nil, offset: Int = 0, limit: Int = 50,
                            scanLimit: Int = 2000) async throws -> FlowRunListingPage {
        let limit = max(1, limit), scanLimit = max(scanLimit, limit)
        let total = Int(try await client.send(RedisCommand("ZCARD", .string(runsIndexKey))).int ?? 0)
        var runs: [FlowRunListing] = []
        var position = max(0, offset)
        var scanned = 0
        while runs.count < limit, scanned < scanLimit, position < total {
            let window = min(flow == nil ? limit - runs.count : 200, scanLimit - scanned)
            let ids = try await client.send(RedisCommand(
                "ZREVRANGE", .string(runsIndexKey), .integer(Int64(position)), .integer(Int64(position + window - 1))
            )).array?.compactMap(\.string) ?? []
            if ids.isEmpty { break }
            let replies = try await client.pipeline(ids.map {
                RedisCommand("HMGET", .string(runKey($0)), "flow", "createdAt", "cancelledAt", "finishedOn", "state",
                             "nodeCount", "finishedNodes", "unsuccessfulNodes", "schedule")
            })
            for (id, reply) in zip(ids, replies) {
                position += 1
                scanned += 1
                let values = (reply.array ?? []).map(\.string)
                guard values.count == 9, let name = values[0] else { continue }
                if let flow, flow != name { continue }
                let cancelledAt = values[2].flatMap { Int64($0) }
                let finishedAt = values[3].flatMap { Int64($0) }
                let settled = values[4].flatMap(FlowRunStatus.init(rawValue:))
                let status: FlowRunStatus = cancelledAt != nil ? .cancelled : (finishedAt != nil ? settled ?? .running : .running)
                runs.append(FlowRunListing(id: id, flow: name, createdAt: values[1].flatMap { Int64($0) } ?? 0,
                                           finishedAt: finishedAt ?? cancelledAt, status: status,
                                           nodeCount: values[5].flatMap { Int($0) } ?? 0,
                                           finishedNodes: values[6].flatMap { Int($0) } ?? 0,
                                           unsuccessfulNodes: values[7].flatMap { Int($0) } ?? 0, schedule: values[8]))
                if runs.count == limit { break }
            }
        }
        return FlowRunListingPage(runs: runs, nextOffset: position < total ? position : nil, total: total)
    }
}
