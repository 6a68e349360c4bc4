import Tributary

extension PythonPeer {
    /// BullMQ's `getMetrics(type, start, end)` as Python sees it: `peer.py metrics` runs the package's bundled
    /// `getMetrics-2.lua` (bullmq 3.4.4's Queue has no method for it) and shapes the reply as Node's does.
    func metrics(_ type: MetricsType, start: Int = 0, end: Int = -1, redisURL: String, queue: String,
                 prefix: String = "bull") async throws -> QueueMetrics {
        let output = try await run("metrics", redisURL: redisURL, queue: queue, prefix: prefix,
                                   ["--type", type.rawValue, "--start", String(start), "--end", String(end)])
        return try decode(QueueMetrics.self, from: output, command: "metrics")
    }
}
