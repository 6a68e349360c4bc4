import Metrics
import Prometheus
import Tributary

/// The Prometheus side of the dashboard and of `tributary worker --metrics-port`: swift-metrics is bootstrapped
/// with a Prometheus factory, so every counter, timer and gauge the process records (the workers' among them)
/// shows up at `/metrics`, together with BullMQ's `bullmq_job_count{queue,state}` gauge, read from Redis when
/// `/metrics` is scraped.
public enum DashboardMetrics {
    /// The registry `/metrics` prints: the one ``bootstrap()`` gives swift-metrics.
    public static var registry: PrometheusCollectorRegistry { PrometheusMetricsFactory.defaultRegistry }

    /// Bootstraps swift-metrics with a Prometheus factory on ``registry``. swift-metrics allows this once per
    /// process: call it at the start of a command, before any metric is made.
    public static func bootstrap() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The states of `bullmq_job_count`, as BullMQ's `exportPrometheusMetrics` names them.
    static func states(_ counts: JobCounts) -> [(label: String, count: Int)] {
        [("active", counts.active), ("completed", counts.completed), ("delayed", counts.delayed),
         ("failed", counts.failed), ("paused", counts.paused), ("prioritized", counts.prioritized),
         ("waiting", counts.waiting), ("waiting-children", counts.waitingChildren)]
    }

    /// Sets `bullmq_job_count{queue,state}` for each queue (one pipeline of ten commands per queue), then prints
    /// the registry in Prometheus' text format.
    static func scrape(queues: [String], client: RedisClient, prefix: String,
                       registry: PrometheusCollectorRegistry) async throws -> String {
        for name in queues {
            let counts = try await Queue(name, client: client, prefix: prefix).getJobCounts()
            for (label, count) in states(counts) {
                registry.makeGauge(name: "bullmq_job_count", labels: [("queue", name), ("state", label)],
                                   help: "Jobs of a BullMQ queue in each state").set(to: Double(count))
            }
        }
        return registry.emitToString()
    }
}
