/// The scenarios of the queue benchmark and their sizes.
struct QueueScenario: Sendable {
    /// How the client processes of a scenario run.
    enum Shape: Sendable {
        /// A producer adds, then (optionally) a worker process processes.
        case producerThenWorker(worker: Bool)
        /// A worker waits idle while a producer adds one job at a time.
        case idleWorkerWhileProducing
        /// One worker process adds and processes.
        case workerOnly
    }

    let id: String
    let title: String
    let shape: Shape
    /// `--count` for the clients (jobs, flows, children or adds, depending on the scenario).
    let count: Int
    /// `--children` for the clients (children per flow in P2), 0 when unused.
    let children: Int

    /// The scenarios at their full size, scaled by `scale` (at least 1 of everything).
    static func all(scale: Double, overrides: [String: Int]) -> [QueueScenario] {
        func scaled(_ id: String, _ full: Int) -> Int { overrides[id] ?? max(1, Int((Double(full) * scale).rounded())) }
        return [
            QueueScenario(id: "P1", title: "plain jobs: addBulk, then 1 worker", shape: .producerThenWorker(worker: true),
                          count: scaled("P1", 20_000), children: 0),
            QueueScenario(id: "P2", title: "flows of 1 parent + 10 children", shape: .producerThenWorker(worker: true),
                          count: scaled("P2", 2_000), children: 10),
            QueueScenario(id: "P3", title: "one flow, 1 parent + N children: add", shape: .producerThenWorker(worker: false),
                          count: scaled("P3", 10_000), children: 0),
            QueueScenario(id: "P4", title: "one parent with N children: add, process", shape: .producerThenWorker(worker: true),
                          count: scaled("P4", 100_000), children: 0),
            QueueScenario(id: "P5", title: "idle pickup latency, single adds", shape: .idleWorkerWhileProducing,
                          count: scaled("P5", 1_000), children: 0),
            QueueScenario(id: "P6", title: "DAG of 10 layers, each node needing 3 of the layer before", shape: .workerOnly,
                          count: scaled("P6", 100), children: 10),
            QueueScenario(id: "P7", title: "one map over N items (maxConcurrency 100): submit to merge completed",
                          shape: .workerOnly, count: scaled("P7", 10_000), children: 100),
            QueueScenario(id: "P8", title: "a job scheduler every 1 s for N s: fires and start lateness", shape: .workerOnly,
                          count: scaled("P8", 60), children: 0),
            QueueScenario(id: "P9", title: "a chain of N nodes on one idle worker: per hop", shape: .workerOnly,
                          count: scaled("P9", 1_000), children: 0),
        ]
    }

    /// A one-line description with the sizes.
    var summary: String {
        switch id {
        case "P1": return "\(count) plain jobs added with addBulk, then processed by one worker"
        case "P2": return "\(count) flows of 1 parent + \(children) children added with FlowProducer.addBulk, then processed"
        case "P3": return "one flow of 1 parent + \(count) children: time to add"
        case "P4": return "one parent with \(count) children: add, process until the parent completes"
        case "P5": return "\(count) single adds to an idle worker: add -> handler start"
        case "P6":
            return "a DAG of \(children) layers × \(count) nodes, each node after the first layer needing 3 nodes of the "
                + "layer before; Tributary submits it as one flow run (shared nodes); Python bullmq cannot share a node "
                + "between parents, so its client adds the first layer and adds each node from the worker's completed "
                + "event once its 3 inputs have completed (their results passed in its data)"
        case "P7":
            return "one run mapping over \(count) items (maxConcurrency \(children), worker concurrency \(children), "
                + "trivial handlers): submit to merge completed; Python bullmq uses its step pattern, a parent job that "
                + "adds the \(count) children with addBulk, waits for them (moveToWaitingChildren), then gathers their "
                + "results (getChildrenValues) as the merge"
        case "P8":
            return "a job scheduler every 1 s (upserted with a start date on the next whole second) and one idle worker "
                + "for \(count) s: how many iterations started whose slot fell in the window (expected \(count)), and how "
                + "late each started after its slot (handler start - slot, wall clock)"
        case "P9":
            return "a chain of \(count) nodes (each needing the one before, trivial handlers) on one worker at concurrency "
                + "1 that waits before the submit: submit to the last node completed, and that time over \(count) hops; "
                + "Tributary submits it as a flow run, Python bullmq adds it as a FlowProducer tree \(count) levels deep"
        default: return title
        }
    }
}

/// One phase of one scenario run by one implementation, as measured.
struct PhaseResult: Sendable {
    /// Seconds, as the client measured the phase.
    var elapsed: Double
    /// What the client reported: `jobs`, `flows`, `p50_ms`, `p99_ms`...
    var values: [String: Double]
    /// redis-server's CPU time over the phase's wall time, in percent of one core.
    var redisCPU: Double
    /// The client processes' CPU time over the phase's wall time, in percent of one core.
    var clientCPU: Double
    /// Redis commands (INFO commandstats calls, scripts' inner calls included) per job.
    var commandsPerJob: Double
    /// Peak resident set of the process that ended the phase, in MiB.
    var peakRSS: Double?

    var jobs: Double { values["jobs"] ?? 0 }
    func rate(_ key: String) -> Double? { values[key].map { $0 / elapsed } }
}
