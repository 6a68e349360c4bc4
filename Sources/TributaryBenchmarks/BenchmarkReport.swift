import Foundation

/// The Markdown report of a queue benchmark: medians per metric, ratio, and the issue's targets.
struct BenchmarkReport {
    let scenarios: [QueueScenario]
    let results: QueueBenchmark.Results
    let options: QueueBenchmark.Options
    let started: Date
    let loadBefore: String
    let loadAfter: String
    let redisVersion: String
    let pythonVersion: String

    /// Which way is better for a metric.
    enum Better { case higher, lower, neither }

    struct Metric {
        let phase: String
        let name: String
        let better: Better
        let decimals: Int
        let value: (PhaseResult) -> Double?
    }

    /// The metrics shown for one scenario, in order.
    func metrics(_ scenario: QueueScenario) -> [Metric] {
        let jobsPerSecond = { (phase: String) in Metric(phase: phase, name: "jobs/s", better: .higher, decimals: 0) { $0.rate("jobs") } }
        let flowsPerSecond = { (phase: String) in Metric(phase: phase, name: "flows/s", better: .higher, decimals: 0) { $0.rate("flows") } }
        let seconds = { (phase: String, name: String) in Metric(phase: phase, name: name, better: .lower, decimals: 3) { $0.elapsed } }
        var list: [Metric]
        switch scenario.id {
        case "P1": list = [jobsPerSecond("add"), jobsPerSecond("process")]
        case "P2": list = [flowsPerSecond("add"), jobsPerSecond("add"), flowsPerSecond("process"), jobsPerSecond("process")]
        case "P3": list = [seconds("add", "seconds to add"), jobsPerSecond("add")]
        case "P4":
            list = [seconds("add", "seconds to add"), jobsPerSecond("add"),
                    seconds("process", "seconds until the parent completed"), jobsPerSecond("process"),
                    Metric(phase: "process", name: "worker peak RSS (MiB)", better: .lower, decimals: 1) { $0.peakRSS }]
        case "P5":
            list = [Metric(phase: "pickup", name: "p50 add -> handler (ms)", better: .lower, decimals: 3) { $0.values["p50_ms"] },
                    Metric(phase: "pickup", name: "p99 add -> handler (ms)", better: .lower, decimals: 3) { $0.values["p99_ms"] }]
        case "P6":
            list = [seconds("run", "seconds from submit to the last node completed"), jobsPerSecond("run"),
                    Metric(phase: "run", name: "of which submitting (s)", better: .neither, decimals: 3) { $0.values["submit_s"] }]
        case "P7":
            list = [seconds("run", "seconds from submit to the merge completed"), jobsPerSecond("run"),
                    Metric(phase: "run", name: "worker peak RSS (MiB)", better: .lower, decimals: 1) { $0.peakRSS },
                    Metric(phase: "run", name: "longest single Lua script (ms, SLOWLOG)", better: .lower, decimals: 1) { $0.values["slowest_script_ms"] },
                    Metric(phase: "run", name: "longest command of any kind (ms, SLOWLOG)", better: .lower, decimals: 1) { $0.values["slowest_command_ms"] },
                    Metric(phase: "run", name: "commands taking ≥ 1 ms", better: .lower, decimals: 0) { $0.values["slow_commands"] }]
        case "P8":
            list = [Metric(phase: "fire", name: "iterations started in the window", better: .neither, decimals: 0) { $0.values["fires"] },
                    Metric(phase: "fire", name: "p50 slot -> handler (ms)", better: .lower, decimals: 1) { $0.values["p50_ms"] },
                    Metric(phase: "fire", name: "p99 slot -> handler (ms)", better: .lower, decimals: 1) { $0.values["p99_ms"] }]
        case "P9":
            list = [seconds("run", "seconds from submit to the last node completed"),
                    Metric(phase: "run", name: "ms per hop", better: .lower, decimals: 3) { $0.values["hop_ms"] }]
        default: list = []
        }
        let phases = list.reduce(into: [String]()) { if !$0.contains($1.phase) { $0.append($1.phase) } }
        for phase in phases {
            list.append(Metric(phase: phase, name: "redis-server CPU %", better: .neither, decimals: 0) { $0.redisCPU })
            list.append(Metric(phase: phase, name: "client CPU %", better: .neither, decimals: 0) { $0.clientCPU })
            list.append(Metric(phase: phase, name: "Redis commands/job", better: .lower, decimals: 1) { $0.commandsPerJob })
        }
        return list
    }

    /// The median over runs of one metric for one implementation.
    func median(_ scenario: QueueScenario, _ implementation: QueueBenchmark.Implementation, _ metric: Metric) -> Double? {
        let values = (results[scenario.id]?[implementation] ?? []).compactMap { $0[metric.phase].flatMap(metric.value) }.sorted()
        guard !values.isEmpty else { return nil }
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }

    /// How many times better Tributary is (higher throughput or lower time, latency, memory, commands).
    func ratio(_ metric: Metric, tributary: Double?, python: Double?) -> Double? {
        guard let tributary, let python, tributary > 0, python > 0 else { return nil }
        switch metric.better {
        case .higher: return tributary / python
        case .lower: return python / tributary
        case .neither: return nil
        }
    }

    func markdown() -> String {
        let date = ISO8601DateFormatter().string(from: started)
        var lines = [
            "Queue benchmark, \(date): \(ProcessInfo.processInfo.activeProcessorCount) cores, redis-server \(redisVersion) "
                + "(\(options.tcp ? "TCP 127.0.0.1" : "unix socket"), persistence off), \(pythonVersion); "
                + "medians of \(options.runs) run\(options.runs == 1 ? "" : "s"), worker concurrency \(options.concurrency). "
                + "Load average before: \(loadBefore), after: \(loadAfter).",
            "",
            "| scenario | phase | metric | Tributary | Python | ratio |",
            "|---|---|---|---:|---:|---:|",
        ]
        for scenario in scenarios {
            for metric in metrics(scenario) {
                let tributary = median(scenario, .tributary, metric)
                let python = median(scenario, .python, metric)
                let factor = ratio(metric, tributary: tributary, python: python).map { String(format: "%.2f×", $0) } ?? ""
                lines.append("| \(scenario.id) | \(metric.phase) | \(metric.name) | \(format(tributary, metric.decimals)) | "
                             + "\(format(python, metric.decimals)) | \(factor) |")
            }
        }
        lines.append("")
        lines.append("Ratio: how many times better Tributary is (higher jobs/s, or lower time, latency, memory, commands per job).")
        lines.append("CPU %: utime+stime from /proc over the phase's wall time (100 = one core); client = every client process "
                     + "of the phase (P5: producer and worker). Commands per job: INFO commandstats delta (commands run by "
                     + "scripts included) over the jobs of the phase.")
        for scenario in scenarios { lines.append("- \(scenario.id): \(scenario.summary)") }
        lines.append("")
        lines.append(contentsOf: targets())
        return lines.joined(separator: "\n")
    }

    private func targets() -> [String] {
        var lines = ["Targets:"]
        func scenario(_ id: String) -> QueueScenario? { scenarios.first { $0.id == id } }
        func check(_ id: String, _ phase: String, _ name: String, _ label: String, _ test: (Double?, Double?) -> (Bool, String)?) {
            guard let scenario = scenario(id), let metric = metrics(scenario).first(where: { $0.phase == phase && $0.name == name }) else { return }
            guard let (met, shown) = test(median(scenario, .tributary, metric), median(scenario, .python, metric)) else { return }
            lines.append("- \(label): \(shown) — \(met ? "met" : "NOT met")")
        }
        func atLeast(_ factor: Double) -> (Double?, Double?) -> (Bool, String)? {
            { tributary, python in
                guard let tributary, let python, python > 0 else { return nil }
                let ratio = tributary / python
                return (ratio >= factor, String(format: "%.2f×", ratio))
            }
        }
        check("P1", "add", "jobs/s", "P1 adding >= 3× Python", atLeast(3))
        check("P1", "process", "jobs/s", "P1 processing >= 6× Python", atLeast(6))
        check("P1", "process", "redis-server CPU %", "redis-server > 80% CPU during P1 processing") { tributary, _ in
            tributary.map { ($0 > 80, String(format: "%.0f%%", $0)) }
        }
        check("P2", "add", "jobs/s", "P2 adding >= 3× Python", atLeast(3))
        check("P2", "process", "jobs/s", "P2 processing >= 5× Python", atLeast(5))
        check("P4", "process", "worker peak RSS (MiB)", "P4 worker peak RSS < 200 MB") { tributary, _ in
            tributary.map { ($0 * 1.048576 < 200, String(format: "%.1f MiB", $0)) }
        }
        check("P5", "pickup", "p50 add -> handler (ms)", "P5 p50 < 1 ms") { tributary, _ in
            tributary.map { ($0 < 1, String(format: "%.3f ms", $0)) }
        }
        if let p8 = scenario("P8") {
            check("P8", "fire", "iterations started in the window", "P8 fires \(p8.count) ± 1 times") { tributary, _ in
                tributary.map { (abs($0 - Double(p8.count)) <= 1, String(format: "%.0f", $0)) }
            }
            check("P8", "fire", "p99 slot -> handler (ms)", "P8 p99 start within 50 ms of the slot") { tributary, _ in
                tributary.map { ($0 <= 50, String(format: "%.1f ms", $0)) }
            }
        }
        return lines
    }

    private func format(_ value: Double?, _ decimals: Int) -> String {
        guard let value else { return "–" }
        if decimals == 0 {
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.maximumFractionDigits = 0
            return formatter.string(from: NSNumber(value: value.rounded())) ?? String(Int(value))
        }
        return String(format: "%.\(decimals)f", value)
    }
}
