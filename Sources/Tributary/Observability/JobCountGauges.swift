import CoreMetrics

/// BullMQ's `bullmq_job_count{queue,state}` gauge (Node BullMQ's `exportPrometheusMetrics`), set from
/// ``Queue/getJobCounts()``; call ``record(_:factory:)`` on each scrape, before rendering the registry.
public enum JobCountGauges {
    /// The gauge's label.
    public static let label = "bullmq_job_count"

    /// The states reported, in BullMQ's order (its `getJobCounts()` with no argument).
    public static let states = ["active", "completed", "delayed", "failed", "paused", "prioritized", "waiting",
                                "waiting-children"]

    /// Reads the job counts of each queue (one pipeline per queue) and sets `bullmq_job_count{queue,state}`.
    ///
    /// - Parameters:
    ///   - queues: the queues to report.
    ///   - factory: where the gauges go; `nil` for the bootstrapped `MetricsSystem` factory.
    /// - Returns: the counts read, by queue name (what was recorded).
    /// - Throws: a Redis error; gauges of the queues read before it are set.
    @discardableResult
    public static func record(_ queues: [Queue], factory: (any MetricsFactory)? = nil) async throws -> [String: JobCounts] {
        let factory = factory ?? MetricsSystem.factory
        var read: [String: JobCounts] = [:]
        for queue in queues {
            let counts = try await queue.getJobCounts()
            read[queue.name] = counts
            for state in states {
                Gauge(label: label, dimensions: [("queue", queue.name), ("state", state)], factory: factory)
                    .record(value(of: state, in: counts))
            }
        }
        return read
    }

    /// The count of a BullMQ state name.
    static func value(of state: String, in counts: JobCounts) -> Int {
        switch state {
        case "paused": return counts.paused
        case "waiting-children": return counts.waitingChildren
        default: return counts[JobState(rawValue: state) ?? .unknown]
        }
    }
}
