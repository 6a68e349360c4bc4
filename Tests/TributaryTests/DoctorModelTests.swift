import Foundation
import Testing
@testable import Tributary

/// A randomized model test: random sequences of queue, flow and worker operations on a real redis-server, with
/// the doctor's invariants checked after every step (no job in no state or in two, no dangling dependency, no
/// stuck parent, no orphan, no stray lock, no run record that disagrees with its jobs, no key of the wrong type).
///
/// CI runs a short sequence. The long version is one command:
/// `TRIBUTARY_MODEL_STEPS=2000 TRIBUTARY_MODEL_SEED=$RANDOM swift test --filter DoctorModelTests`; CI uses a fixed seed
/// (it prints the operations run and invariants checked).
@Suite("Doctor model test")
struct DoctorModelTests {
    /// SplitMix64: a small seeded generator, so a failing sequence can be replayed from its seed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Operation: String, CaseIterable {
        case add, addFailing, addDelayed, addPriority, addFlow, submitRun, retry, remove, cancelRun, clean, pause,
             resume, stallWorker, settle
    }

    static let queues = ["model", "model-b"]

    @Test("random operations never break the doctor's invariants")
    func randomOperations() async throws {
        let environment = ProcessInfo.processInfo.environment
        let steps = environment["TRIBUTARY_MODEL_STEPS"].flatMap(Int.init) ?? 60
        let seed = environment["TRIBUTARY_MODEL_SEED"].flatMap(UInt64.init) ?? 20_261_130
        var random = SeededGenerator(state: seed)
        try await withQueue("model") { queue, client, _ in
            let other = try Queue("model-b", client: client)
            let flows = FlowProducer(client: client)
            let doctor = QueueDoctor(client: client)
            var workers = try Self.startWorkers(client)
            var jobIds: [String] = [], runIds: [String] = []
            var performed: [Operation: Int] = [:]
            var checks = 0
            defer { _ = workers }
            for step in 0..<steps {
                let operation = Operation.allCases.randomElement(using: &random)!
                performed[operation, default: 0] += 1
                switch operation {
                case .add:
                    jobIds.append(try await queue.add("ok", data: ["n": .int(Int64(step))]).id)
                case .addFailing:
                    jobIds.append(try await queue.add("bad", data: ["fail": true], options: .init(attempts: 2)).id)
                case .addDelayed:
                    jobIds.append(try await other.add("later", options: .init(delay: .milliseconds(Int64.random(in: 1...300, using: &random)))).id)
                case .addPriority:
                    jobIds.append(try await queue.add("urgent", options: .init(priority: Int.random(in: 1...5, using: &random))).id)
                case .addFlow:
                    let policy = [FailurePolicy.fail, .ignore, .remove, .continue].randomElement(using: &random)!
                    let children = (0..<Int.random(in: 1...3, using: &random)).map { index in
                        FlowJob("child", queue: Self.queues[index % 2], data: ["fail": .bool(index == 1)],
                                options: .init(onFailure: policy))
                    }
                    try await flows.add(FlowJob("parent", queue: "model", children: children))
                case .submitRun:
                    let plan = try FlowCompiler.compile(#"""
                        {"flow": "model", "queue": "model", "nodes": {
                          "a": {"queue": "model-b"}, "b": {"data": {"fail": true}},
                          "c": {"needs": ["a", "b"], "onFailure": "ignore"}, "d": {"needs": "c"}}}
                        """#, source: "model.json")
                    runIds.append(try await flows.submit(plan).runId)
                case .retry:
                    if let failed = try await queue.getJobs([.failed], start: 0, end: 9).randomElement(using: &random) {
                        _ = try? await queue.retryJob(failed.id)
                    }
                case .remove:
                    if let id = jobIds.randomElement(using: &random) { _ = try? await queue.removeJob(id) }
                case .cancelRun:
                    if let id = runIds.randomElement(using: &random) { _ = try? await flows.cancelFlowRun(id) }
                case .clean:
                    _ = try await queue.clean(grace: .zero, limit: 5, state: .completed)
                case .pause:
                    try await other.pause()
                case .resume:
                    try await other.resume()
                case .stallWorker:
                    for worker in workers { await worker.close(force: true) }
                    workers = try Self.startWorkers(client)
                case .settle:
                    try await Task.sleep(for: .milliseconds(100))
                }
                let report = try await doctor.examine()
                checks += 1
                #expect(report.isHealthy, "seed \(seed), step \(step) (\(operation)): \(report.findings)")
                if !report.isHealthy { break }
            }
            try await other.resume()
            for worker in workers { await worker.close() }
            let final = try await doctor.examine()
            #expect(final.isHealthy, "seed \(seed), after the workers closed: \(final.findings)")
            let summary = performed.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
            print("doctor model test: seed \(seed), \(steps) steps (\(summary.joined(separator: " "))), "
                + "\(checks + 1) examinations, \(final.jobsExamined) jobs at the end")
        }
    }

    /// A worker per queue that fails jobs whose data says so, with short locks so a forced close stalls quickly.
    static func startWorkers(_ client: RedisClient) throws -> [Worker] {
        let options = WorkerOptions(concurrency: 3, lockDuration: .seconds(2), stalledInterval: .seconds(1), maxStalledCount: 2)
        let workers = try queues.map { name in
            try Worker(queue: name, client: client, options: options) { job in
                if job.data["fail"] == true { throw WorkerTestFailure(message: "asked to fail") }
                try await Task.sleep(for: .milliseconds(5))
                return .string("done")
            }
        }
        for worker in workers { Task { try await worker.run() } }
        return workers
    }
}

struct WorkerTestFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
