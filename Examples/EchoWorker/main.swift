// EchoWorker: a Tributary worker process that echoes each job's data back, after sleeping `sleepMs` if given.
//
//   EchoWorker REDIS_URL QUEUE [--concurrency N] [--lock-ms MS] [--stalled-ms MS] [--metrics-points P]
//
// --metrics-points turns BullMQ's per-minute metrics on (WorkerOptions.metrics, keeping P points).
//
// It stops gracefully on SIGINT and SIGTERM (running jobs finish). The test suite runs it as a separate process
// to kill it with SIGKILL mid-job.
import Glibc
import Logging
import ServiceLifecycle
import Tributary

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: EchoWorker REDIS_URL QUEUE [--concurrency N] [--lock-ms MS] [--stalled-ms MS] [--metrics-points P]")
    exit(2)
}
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { arguments.count > $0 + 1 ? Int(arguments[$0 + 1]) : nil } ?? fallback
}

var logger = Logger(label: "echo-worker")
logger.logLevel = .info
let client = try await RedisClient.connect(url: arguments[1], disconnectedBehavior: .waitForReconnect, logger: logger)
let options = WorkerOptions(
    concurrency: option("--concurrency", 1), lockDuration: .milliseconds(option("--lock-ms", 30_000)),
    stalledInterval: .milliseconds(option("--stalled-ms", 30_000)), name: "echo-\(getpid())",
    metrics: arguments.contains("--metrics-points") ? .init(maxDataPoints: option("--metrics-points", 1)) : nil)
let worker = try Worker(queue: arguments[2], client: client, options: options, logger: logger) { job in
    let pause = job.data["sleepMs"]?.intValue ?? 0
    print("started \(job.id)")
    if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
    return ["by": "tributary", "pid": .int(Int64(getpid())), "echo": job.data]
}
let group = ServiceGroup(configuration: .init(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await group.run()
await client.close()
