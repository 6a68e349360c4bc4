@testable import Tributary

extension PythonPeer {
    /// Python's `Queue.upsertJobScheduler(id, repeat, name, data, opts)`; the id of the iteration it queued, or nil.
    func upsertScheduler(_ id: String, repeat: JSONValue, name: String? = nil, data: JSONValue? = nil,
                         opts: JSONValue? = nil, redisURL: String, queue: String) async throws -> String? {
        var arguments = ["--id", id, "--repeat", `repeat`.serialized()]
        if let name { arguments += ["--name", name] }
        if let data { arguments += ["--data", data.serialized()] }
        if let opts { arguments += ["--opts", opts.serialized()] }
        let output = try await run("scheduler-upsert", redisURL: redisURL, queue: queue, arguments)
        return output["jobId"]?.stringValue
    }

    /// Python's `Queue.getJobSchedulers()` (as JSON, latest next slot first) and `getJobSchedulersCount()`.
    func schedulers(redisURL: String, queue: String) async throws -> (list: [JSONValue], count: Int) {
        let output = try await run("schedulers", redisURL: redisURL, queue: queue)
        return (output["schedulers"]?.arrayValue ?? [], Int(output["count"]?.intValue ?? -1))
    }

    /// Python's `Queue.removeJobScheduler(id)`: 0 removed, 1 absent.
    func removeScheduler(_ id: String, redisURL: String, queue: String) async throws -> Int {
        let output = try await run("scheduler-remove", redisURL: redisURL, queue: queue, ["--id", id])
        return Int(output["result"]?.intValue ?? -1)
    }
}
