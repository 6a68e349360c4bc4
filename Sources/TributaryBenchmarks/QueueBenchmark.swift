import Foundation
import Tributary

/// The queue and flow benchmark: runs each scenario with Tributary and with Python bullmq on one private
/// redis-server and prints a Markdown table of medians. Run it with `scripts/bench.sh`.
///
/// Usage: `TributaryBenchmarks queue [--runs N] [--only P1,P5] [--scale F] [--count P1=N ...]
/// [--impl tributary|python|both] [--python PATH] [--python-client PATH] [--concurrency N] [--gap-ms N] [--tcp]
/// [--wrap ROLE COMMAND]`
enum QueueBenchmark {
    struct Options {
        var runs = 3
        var only: Set<String>?
        var scale = 1.0
        var counts: [String: Int] = [:]
        var implementations: [Implementation] = Implementation.allCases
        var python = ".venv/bin/python"
        var pythonClient = "benchmarks/python/bench_client.py"
        var concurrency = 50
        var gapMilliseconds = 10
        var tcp = false
        /// Run Tributary clients with the NIO event loop as Swift's global executor.
        var nioExecutor = false
        /// A command prefix for Tributary client processes of one role, for profiling (e.g.
        /// `--wrap worker "perf record -g -o /tmp/worker.data --"`); their CPU figures then count the wrapper.
        var wrap: (role: String, command: [String])?
        var timeout: Duration = .seconds(600)

        init(_ arguments: [String]) throws {
            var iterator = arguments.makeIterator()
            func value(_ flag: String) throws -> String {
                guard let value = iterator.next() else { throw BenchmarkError("\(flag) needs a value") }
                return value
            }
            while let flag = iterator.next() {
                switch flag {
                case "--runs": runs = try Self.positive(value(flag), flag)
                case "--only": only = Set(try value(flag).uppercased().split(separator: ",").map(String.init))
                case "--scale":
                    guard let number = Double(try value(flag)), number > 0 else { throw BenchmarkError("--scale needs a positive number") }
                    scale = number
                case "--count":
                    let pair = try value(flag).uppercased().split(separator: "=")
                    guard pair.count == 2, let number = Int(pair[1]), number > 0 else {
                        throw BenchmarkError("--count takes SCENARIO=N, for example P4=20000")
                    }
                    counts[String(pair[0])] = number
                case "--impl":
                    let text = try value(flag)
                    if text == "both" { implementations = Implementation.allCases; continue }
                    guard let one = Implementation(rawValue: text) else { throw BenchmarkError("--impl is tributary, python or both") }
                    implementations = [one]
                case "--python": python = try value(flag)
                case "--python-client": pythonClient = try value(flag)
                case "--concurrency": concurrency = try Self.positive(value(flag), flag)
                case "--gap-ms": gapMilliseconds = try Self.positive(value(flag), flag)
                case "--tcp": tcp = true
                case "--nio-executor": nioExecutor = true
                case "--wrap": wrap = (try value(flag), try value(flag).split(separator: " ").map(String.init))
                default: throw BenchmarkError("unknown option \(flag)")
                }
            }
        }

        private static func positive(_ text: String, _ flag: String) throws -> Int {
            guard let number = Int(text), number > 0 else { throw BenchmarkError("\(flag) needs a positive integer") }
            return number
        }
    }

    enum Implementation: String, CaseIterable, Sendable {
        case tributary, python
    }

    /// Every run's phases: scenario id → implementation → one `[phase: result]` per run.
    typealias Results = [String: [Implementation: [[String: PhaseResult]]]]

    static func run(_ arguments: [String]) async throws {
        let options = try Options(arguments)
        let scenarios = QueueScenario.all(scale: options.scale, overrides: options.counts)
            .filter { options.only?.contains($0.id) ?? true }
        guard !scenarios.isEmpty else { throw BenchmarkError("--only matched no scenario (P1...P9)") }
        let loadBefore = ProcStats.loadAverage()
        let started = Date()
        let server = try RedisServerProcess(unixSocket: !options.tcp)
        defer { server.stop() }
        let runner = ScenarioRunner(server: server, options: options,
                                    logDirectory: server.directory.path, selfPath: selfExecutable())
        var results: Results = [:]
        for scenario in scenarios {
            for run in 1...options.runs {
                // Alternate who goes first, so a load change hurts both sides alike.
                let order = run % 2 == 1 ? options.implementations : options.implementations.reversed()
                for implementation in order {
                    let phases = try runner.run(scenario, implementation)
                    results[scenario.id, default: [:]][implementation, default: []].append(phases)
                    report(scenario, implementation, run: run, of: options.runs, phases)
                }
            }
        }
        let report = BenchmarkReport(
            scenarios: scenarios, results: results, options: options, started: started,
            loadBefore: loadBefore, loadAfter: ProcStats.loadAverage(),
            redisVersion: (try? server.cli(["INFO", "server"])).flatMap(Self.redisVersion) ?? "?",
            pythonVersion: pythonVersion(options.python))
        print(report.markdown())
    }

    private static func report(_ scenario: QueueScenario, _ implementation: Implementation, run: Int, of runs: Int,
                               _ phases: [String: PhaseResult]) {
        let text = phases.sorted { $0.key < $1.key }.map { name, result in
            var parts = ["\(name) \(String(format: "%.3f", result.elapsed)) s"]
            if result.jobs > 0 { parts.append("\(Int(result.jobs / result.elapsed)) jobs/s") }
            if let p50 = result.values["p50_ms"] { parts.append(String(format: "p50 %.3f ms", p50)) }
            parts.append(String(format: "redis %.0f%% client %.0f%% %.1f cmd/job", result.redisCPU, result.clientCPU, result.commandsPerJob))
            if result.jobs > 0 {
                // CPU time per job, which the machine's load changes much less than the rates.
                let perJob = { (percent: Double) in percent / 100 * result.elapsed / result.jobs * 1e6 }
                parts.append(String(format: "cpu/job: redis %.1f µs client %.1f µs", perJob(result.redisCPU), perJob(result.clientCPU)))
            }
            if let rss = result.peakRSS { parts.append(String(format: "rss %.0f MiB", rss)) }
            return parts.joined(separator: ", ")
        }.joined(separator: "; ")
        FileHandle.standardError.write(Data("\(scenario.id) \(implementation.rawValue) run \(run)/\(runs): \(text) [load \(ProcStats.loadAverage())]\n".utf8))
    }

    private static func selfExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    private static func redisVersion(_ info: String) -> String? {
        info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }.map { String($0.dropFirst(14)) }
    }

    private static func pythonVersion(_ python: String) -> String {
        let script = "import sys; from importlib.metadata import version; print(sys.version.split()[0], version('bullmq'), version('redis'))"
        let parts = ((try? RedisServerProcess.run(python, ["-c", script])) ?? "").split(separator: " ")
        guard parts.count == 3 else { return "?" }
        return "Python \(parts[0]), bullmq \(parts[1]), redis-py \(parts[2])"
    }
}
