import Foundation
import Tributary

/// Runs one scenario with one implementation: flushes Redis, starts the client processes, and measures each
/// phase they announce (wall time, CPU of redis-server and of the clients, Redis commands).
struct ScenarioRunner {
    let server: RedisServerProcess
    let options: QueueBenchmark.Options
    let logDirectory: String
    let selfPath: String

    /// A reading at a phase boundary.
    private struct Sample {
        var instant: ContinuousClock.Instant
        var redisTicks: Int
        var clientTicks: Int
        var commands: Int
    }

    func run(_ scenario: QueueScenario, _ implementation: QueueBenchmark.Implementation) throws -> [String: PhaseResult] {
        _ = try server.cli(["FLUSHALL"])
        var phases: [String: PhaseResult] = [:]
        switch scenario.shape {
        case .producerThenWorker(let hasWorker):
            let producer = try start(scenario, implementation, role: "producer")
            try drive(producer, observing: [producer], into: &phases)
            if hasWorker {
                let worker = try start(scenario, implementation, role: "worker")
                try drive(worker, observing: [worker], into: &phases)
            }
        case .workerOnly:
            let worker = try start(scenario, implementation, role: "worker")
            try drive(worker, observing: [worker], into: &phases)
        case .idleWorkerWhileProducing:
            let worker = try start(scenario, implementation, role: "worker")
            guard case .ready? = try worker.next(timeout: options.timeout) else {
                throw BenchmarkError("\(worker.label) did not report READY")
            }
            worker.proceed()
            let producer = try start(scenario, implementation, role: "producer")
            try drive(producer, observing: [producer, worker], into: &phases)
            var extra: [String: Double] = [:]
            for message in try worker.drain(timeout: options.timeout) {
                if case .result(let values) = message { extra.merge(values) { $1 } }
            }
            for (name, var phase) in phases {
                phase.values.merge(extra) { $1 }
                phases[name] = phase
            }
        }
        return phases
    }

    private func start(_ scenario: QueueScenario, _ implementation: QueueBenchmark.Implementation, role: String) throws -> ClientProcess {
        var common = [
            "--redis", server.url, "--scenario", scenario.id, "--role", role, "--count", String(scenario.count),
            "--children", String(scenario.children), "--concurrency", String(options.concurrency),
            "--gap-ms", String(options.gapMilliseconds),
        ]
        let label = "\(scenario.id) \(implementation.rawValue) \(role)"
        if implementation == .tributary && options.nioExecutor { common += ["--nio-executor", "1"] }
        let log = "\(logDirectory)/\(scenario.id)-\(implementation.rawValue)-\(role).log"
        switch implementation {
        case .tributary:
            if let wrap = options.wrap, wrap.role == role, let tool = wrap.command.first.flatMap(ChildProcess.executablePath) {
                return try ClientProcess(tool, arguments: wrap.command.dropFirst() + [selfPath, "client"] + common, label: label, logPath: log)
            }
            return try ClientProcess(selfPath, arguments: ["client"] + common, label: label, logPath: log)
        case .python:
            return try ClientProcess(options.python, arguments: [options.pythonClient] + common, label: label, logPath: log)
        }
    }

    /// Answers a client's messages until it exits, measuring each BEGIN…END phase.
    private func drive(_ client: ClientProcess, observing clients: [ClientProcess], into phases: inout [String: PhaseResult]) throws {
        var begun: [String: Sample] = [:]
        while let message = try client.next(timeout: options.timeout) {
            switch message {
            case .ready, .result:
                break
            case .begin(let phase):
                let commands = try commandCount()
                begun[phase] = Sample(instant: .now, redisTicks: ticks(server.pid), clientTicks: clients.map { ticks($0.pid) }.reduce(0, +),
                                      commands: commands)
            case .end(let phase, let values):
                let instant = ContinuousClock.now
                let redisTicks = ticks(server.pid)
                let clientTicks = clients.map { ticks($0.pid) }.reduce(0, +)
                let peakRSS = ProcStats.peakRSSMiB(client.pid)
                let commands = try commandCount()
                guard let start = begun[phase] else { throw BenchmarkError("\(client.label) ended phase \(phase) it never began") }
                let wall = Self.seconds(instant - start.instant)
                let jobs = max(values["jobs"] ?? 1, 1)
                phases[phase] = PhaseResult(
                    elapsed: values["elapsed"] ?? wall, values: values,
                    redisCPU: Double(redisTicks - start.redisTicks) / ProcStats.ticksPerSecond / wall * 100,
                    clientCPU: Double(clientTicks - start.clientTicks) / ProcStats.ticksPerSecond / wall * 100,
                    commandsPerJob: Double(commands - start.commands) / jobs, peakRSS: peakRSS)
            }
            client.proceed()
        }
    }

    private func ticks(_ pid: pid_t) -> Int { ProcStats.cpuTicks(pid) ?? 0 }

    /// Calls of every command so far (INFO commandstats), INFO itself excluded.
    private func commandCount() throws -> Int {
        var total = 0
        for line in try server.cli(["INFO", "commandstats"]).split(whereSeparator: \.isNewline)
        where line.hasPrefix("cmdstat_") && !line.hasPrefix("cmdstat_info:") {
            guard let calls = line.split(separator: ":", maxSplits: 1).last?.split(separator: ",").first,
                  calls.hasPrefix("calls="), let count = Int(calls.dropFirst(6)) else { continue }
            total += count
        }
        return total
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
