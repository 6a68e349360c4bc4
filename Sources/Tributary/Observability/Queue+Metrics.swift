/// Which finished jobs a queue's metrics count.
public enum MetricsType: String, Sendable, Hashable, CaseIterable, Codable {
    /// Jobs that completed.
    case completed
    /// Jobs that failed for good (a failed attempt that is retried is not counted).
    case failed
}

/// A queue's per-minute metrics, as ``Queue/getMetrics(_:start:end:)`` (and BullMQ's `getMetrics`) returns them.
public struct QueueMetrics: Sendable, Hashable, Codable {
    /// The counters of the metrics hash.
    public struct Meta: Sendable, Hashable, Codable {
        /// Every job counted since metrics were first written.
        public var count: Int
        /// When the last minute was closed (ms since the epoch); bookkeeping, as in BullMQ.
        public var prevTS: Int
        /// ``count`` when the last minute was closed; bookkeeping, as in BullMQ.
        public var prevCount: Int

        /// Creates counters.
        public init(count: Int, prevTS: Int, prevCount: Int) {
            self.count = count
            self.prevTS = prevTS
            self.prevCount = prevCount
        }
    }

    /// The counters.
    public var meta: Meta
    /// Jobs finished per minute, the newest minute first, for the range asked for.
    public var data: [Int]
    /// How many points are stored in all.
    public var count: Int

    /// Creates metrics.
    public init(meta: Meta, data: [Int], count: Int) {
        self.meta = meta
        self.data = data
        self.count = count
    }
}

extension QueueKeys {
    /// The metrics hash of `type`: `<prefix>:<queue>:metrics:completed` or `:failed`; its points are in
    /// `<that key>:data`.
    public func metrics(_ type: MetricsType) -> String { "\(qualifiedName):metrics:\(type.rawValue)" }
}

extension Queue {
    /// The per-minute counts of finished jobs that workers with ``WorkerOptions/metrics`` (Tributary's, Node's or
    /// Python's) wrote: points `start...end` of the list, the newest minute at index 0 (negative indexes count from
    /// the oldest, as in LRANGE). Read in one MULTI, so the counters and the points agree. All zero when no worker
    /// wrote metrics.
    public func getMetrics(_ type: MetricsType, start: Int = 0, end: Int = -1) async throws -> QueueMetrics {
        let key = keys.metrics(type)
        let replies = try await client.transaction([
            RedisCommand("HMGET", .string(key), "count", "prevTS", "prevCount"),
            RedisCommand("LRANGE", .string(key + ":data"), .integer(Int64(start)), .integer(Int64(end))),
            RedisCommand("LLEN", .string(key + ":data")),
        ])
        guard replies.count == 3, let counters = replies[0].array, counters.count == 3 else {
            throw QueueError(.unexpectedScriptResult, "reading metrics \(key) returned \(replies)")
        }
        let numbers = counters.map { Int($0.string ?? "") ?? 0 }
        return QueueMetrics(
            meta: .init(count: numbers[0], prevTS: numbers[1], prevCount: numbers[2]),
            data: (replies[1].array ?? []).map { Int($0.string ?? "") ?? 0 },
            count: replies[2].int ?? 0)
    }
}
