import Foundation
import Tributary

/// `TributaryBenchmarks show` (scripts/bench.sh, rows S1): submits large flow runs with `tributary run` and draws each
/// with `tributary flow show` in every format, as separate processes, reporting each command's wall time and peak
/// RSS (from wait4's rusage). Two shapes of `--nodes` nodes (default 100,000): `layers`, 10 layers in which each node
/// needs the node of the same position in the layer before (so a tenth of the nodes are sinks), and `chain`, each node
/// needing the one before. Options: `--nodes N`, `--tributary PATH` (default .build/release/tributary).
enum FlowShowBenchmark {
    struct Row {
        let shape: String
        let step: String
        let seconds: Double
        /// User + system CPU time of the tributary process.
        let cpuSeconds: Double
        /// CPU time redis-server spent meanwhile.
        let redisCPUSeconds: Double
        let peakMegabytes: Double
        let outputBytes: Int
    }

    static func run(_ arguments: [String]) async throws {
        var nodes = 100_000
        var tributary = ".build/release/tributary"
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? arguments[index + 1] : ""
            switch arguments[index] {
            case "--nodes": nodes = Int(value) ?? nodes
            case "--tributary": tributary = value
            default: throw BenchmarkError("unknown option '\(arguments[index])' (show: --nodes N, --tributary PATH)")
            }
            index += 2
        }
        guard FileManager.default.isExecutableFile(atPath: tributary) else {
            throw BenchmarkError("no tributary executable at \(tributary) (swift build -c release --product tributary)")
        }
        let server = try RedisServerProcess(unixSocket: true)
        defer { server.stop() }
        var rows: [Row] = []
        for shape in ["layers", "chain"] {
            let file = server.directory.appendingPathComponent("\(shape).json").path
            try flowFile(shape: shape, nodes: nodes).write(toFile: file, atomically: true, encoding: .utf8)
            let runId = "bench-\(shape)"
            rows.append(try measure(tributary, ["run", file, "--run-id", runId, "--redis", server.url],
                                    shape: shape, step: "submit (run)", redis: server.pid))
            for format in ["tree", "json", "dot", "mermaid"] {
                rows.append(try measure(tributary, ["flow", "show", runId, "--format", format, "--redis", server.url],
                                        shape: shape, step: "flow show --format \(format)", redis: server.pid))
            }
        }
        print("| S1 \(nodes)-node run | step | wall s | CPU s | Redis CPU s | peak RSS MB | output MB |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for row in rows {
            print("| \(row.shape) | \(row.step) | \(String(format: "%.2f", row.seconds)) | "
                + "\(String(format: "%.2f", row.cpuSeconds)) | \(String(format: "%.2f", row.redisCPUSeconds)) | "
                + "\(String(format: "%.0f", row.peakMegabytes)) | \(String(format: "%.1f", Double(row.outputBytes) / 1_048_576)) |")
        }
    }

    /// A native flow file of `nodes` nodes in one queue.
    static func flowFile(shape: String, nodes: Int) -> String {
        var entries: [String] = []
        entries.reserveCapacity(nodes)
        if shape == "chain" {
            for index in 1...nodes {
                entries.append(index == 1 ? #""s1": {"name": "step"}"# : #""s\#(index)": {"name": "step", "needs": "s\#(index - 1)"}"#)
            }
        } else {
            let width = max(1, nodes / 10)
            for layer in 0..<10 {
                for position in 0..<width {
                    let need = layer == 0 ? "" : #", "needs": "l\#(layer - 1)-\#(position)""#
                    entries.append(#""l\#(layer)-\#(position)": {"name": "layer-\#(layer)"\#(need)}"#)
                }
            }
        }
        return #"{"flow": "bench-\#(shape)", "queue": "bench", "nodes": {"# + entries.joined(separator: ",\n") + "}}"
    }

    /// Runs the command to its end with stdout in a scratch file (its size reported) and measures it.
    static func measure(_ executable: String, _ arguments: [String], shape: String, step: String,
                        redis: pid_t) throws -> Row {
        let redisBefore = ProcStats.cpuTicks(redis) ?? 0
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-show-\(getpid()).out").path
        let stdout = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let start = ContinuousClock.now
        let pid: pid_t
        do {
            defer { close(stdout); close(devNull) }
            pid = try ChildProcess.spawn(executable, arguments: arguments, stdin: devNull, stdout: stdout, stderr: devNull)
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let elapsed = ContinuousClock.now - start
        guard status == 0 else { throw BenchmarkError("\(arguments.joined(separator: " ")) exited with status \(status)") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? Int) ?? 0
        let (seconds, attoseconds) = elapsed.components
        func time(_ value: timeval) -> Double { Double(value.tv_sec) + Double(value.tv_usec) / 1e6 }
        return Row(shape: shape, step: step, seconds: Double(seconds) + Double(attoseconds) / 1e18,
                   cpuSeconds: time(usage.ru_utime) + time(usage.ru_stime),
                   redisCPUSeconds: Double((ProcStats.cpuTicks(redis) ?? 0) - redisBefore) / ProcStats.ticksPerSecond,
                   peakMegabytes: Double(usage.ru_maxrss) / 1024, outputBytes: size)
    }
}
