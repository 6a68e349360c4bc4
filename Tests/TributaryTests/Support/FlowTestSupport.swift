import Testing
@testable import Tributary

/// Runs the workers while `body` runs, then closes them and waits for them to stop.
func withWorkers(_ workers: [Worker], _ body: () async throws -> Void) async throws {
    let runners = workers.map { worker in Task { try await worker.run() } }
    do {
        try await body()
    } catch {
        for worker in workers { await worker.close(force: true) }
        for runner in runners { _ = try? await runner.value }
        throw error
    }
    for worker in workers { await worker.close() }
    for runner in runners { try await runner.value }
}

/// A worker for tests: fails jobs whose data has `"fail": true` (with their `reason`), returns `data.value`
/// (or the job's name) otherwise, and records the names it saw.
func scriptedWorker(_ queue: String, client: RedisClient, seen: SeenJobs? = nil,
                    options: WorkerOptions = .init(concurrency: 4)) throws -> Worker {
    try Worker(queue: queue, client: client, options: options) { job in
        await seen?.record(job)
        if job.data["fail"]?.boolValue == true {
            throw UnrecoverableError(job.data["reason"]?.stringValue ?? "\(job.name) failed on purpose")
        }
        return job.data["value"] ?? .string(job.name)
    }
}

/// The jobs a worker handed to its handler, in order, with what they saw of their flow.
actor SeenJobs {
    private(set) var names: [String] = []
    private(set) var jobs: [String: Job] = [:]

    func record(_ job: Job) {
        names.append(job.name)
        jobs[job.flowNodeId ?? job.id] = job
    }
}

/// Members of a set, or of a sorted set, or fields of a hash, as a Swift set.
func members(_ client: RedisClient, _ key: String) async throws -> Set<String> {
    let type = try await client.send(RedisCommand("TYPE", .string(key))).string ?? "none"
    let command: RedisCommand
    switch type {
    case "set": command = RedisCommand("SMEMBERS", .string(key))
    case "zset": command = RedisCommand("ZRANGE", .string(key), "0", "-1")
    case "hash": command = RedisCommand("HKEYS", .string(key))
    default: return []
    }
    return Set(try await client.send(command).array?.compactMap(\.string) ?? [])
}
