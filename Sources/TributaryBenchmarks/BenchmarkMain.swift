import Foundation

/// The benchmark executable's entry point: picks a mode from the first argument.
///
/// - `redis` (the default): the Redis client micro-benchmark beside redis-benchmark (`scripts/bench-redis.sh`).
/// - `queue`: the queue and flow scenarios, Tributary beside Python bullmq (`scripts/bench.sh`).
/// - `show`: large flow runs drawn by `tributary flow show` in every format (`scripts/bench.sh`, rows S1).
/// - `dashboard`: the dashboard's pages on a 100,000-job queue and a 10,000-node run (`scripts/bench.sh`, rows D1).
/// - `scale`: worker processes on one Redis, and one Redis against a 3-master cluster (`scripts/bench.sh`, rows X1, X2).
/// - `client`: one Tributary side of one scenario, started by `queue` as a child process.
@main
struct BenchmarkMain {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let mode = arguments.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "redis"
        if !arguments.isEmpty && arguments[0] == mode { arguments.removeFirst() }
        do {
            switch mode {
            case "redis": try await RedisBenchmark.run(arguments)
            case "queue": try await QueueBenchmark.run(arguments)
            case "client": try await TributaryClient.run(arguments)
            case "show": try await FlowShowBenchmark.run(arguments)
            case "dashboard": try await DashboardBenchmark.run(arguments)
            case "scale": try await ScalingBenchmark.run(arguments)
            default: throw BenchmarkError("unknown mode '\(mode)': use redis, queue, show, dashboard, scale or client")
            }
        } catch {
            FileHandle.standardError.write(Data("TributaryBenchmarks \(mode): \(error)\n".utf8))
            exit(1)
        }
    }
}
