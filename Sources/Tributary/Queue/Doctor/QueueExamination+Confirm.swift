/// What the scan suspects, before the atomic re-read.
struct Candidates {
    var noState: [String] = []
    var severalStates: [String] = []
    var noHash: [String] = []
    var stuckParents: [String] = []
    var unlockedActive: [String] = []
    var locks: [String] = []
    var orphans: [(id: String, parent: String)] = []
    var missingDependencies: [(parent: String, child: String)] = []
}

/// Where one job is, read atomically by doctorInspect.lua.
struct InspectedJob {
    let states: UInt16
    let hashExists: Bool
    let lockExists: Bool
    let dependencies: Int

    /// Set when the job's map node holds it back for its maxConcurrency (`<map job key>:held`).
    static let heldBit: UInt16 = 1 << 8

    /// The names of the state keys holding the job.
    var stateNames: [String] {
        QueueExamination.containers.enumerated().compactMap { bit, container in
            states & (UInt16(1) << UInt16(bit)) != 0 ? container.kind.rawValue : nil
        } + (states & Self.heldBit != 0 ? ["held by its map node"] : [])
    }
}

extension QueueExamination {
    /// Re-reads every candidate atomically and reports those that still hold.
    func confirm(_ candidates: Candidates, into collector: inout FindingCollector) async throws {
        let ids = Set(candidates.noState + candidates.severalStates + candidates.noHash + candidates.stuckParents
            + candidates.unlockedActive + candidates.locks)
        let inspected = try await inspect(Array(ids))
        let queue = keys.queueName
        func finding(_ kind: DoctorFinding.Kind, _ id: String, _ detail: String, key: String? = nil) -> DoctorFinding {
            DoctorFinding(kind, queue: queue, jobId: id, key: key ?? keys.job(id), detail: detail)
        }
        for id in candidates.noState.sorted() {
            guard let job = inspected[id], job.hashExists, job.states == 0 else { continue }
            collector.add(finding(.jobInNoState, id, "the job exists but no state list or set holds it"))
        }
        for id in candidates.severalStates.sorted() {
            guard let job = inspected[id], job.states.nonzeroBitCount > 1 else { continue }
            collector.add(finding(.jobInSeveralStates, id, "held by \(job.stateNames.joined(separator: " and ")) at once"))
        }
        for id in candidates.noHash.sorted() {
            guard let job = inspected[id], !job.hashExists, job.states != 0 else { continue }
            collector.add(finding(.missingJobHash, id, "\(job.stateNames.joined(separator: ", ")) lists it, but its hash does not exist"))
        }
        for id in candidates.stuckParents.sorted() {
            guard let job = inspected[id], job.hashExists, job.states == Self.waitingChildrenBit, job.dependencies == 0
            else { continue }
            collector.add(finding(.stuckParent, id, "in waiting-children with no pending child"))
        }
        for id in candidates.unlockedActive.sorted() {
            guard let job = inspected[id], job.hashExists, job.states & Self.activeBit != 0, !job.lockExists else { continue }
            collector.add(finding(.unlockedActive, id,
                                  "active without a lock for longer than \(doctor.lockDuration): no worker holds it"))
        }
        for id in candidates.locks.sorted() {
            guard let job = inspected[id], job.lockExists, job.states & Self.activeBit == 0 else { continue }
            collector.add(finding(.strayLock, id, "a lock for a job that is not active", key: keys.job(id) + ":lock"))
        }
        try await confirmKeyChecks(candidates, into: &collector)
    }

    /// Orphans and missing dependencies: the key concerned must still be missing.
    private func confirmKeyChecks(_ candidates: Candidates, into collector: inout FindingCollector) async throws {
        let checks = candidates.orphans.map { ($0.id, $0.parent, true) }
            + candidates.missingDependencies.map { ($0.parent, $0.child, false) }
        for chunk in checks.chunked(1000) {
            let replies = try await client.pipeline(chunk.map { RedisCommand("EXISTS", .string($0.1)) })
            for (check, reply) in zip(chunk, replies) where reply.int == 0 {
                let (id, other, isOrphan) = check
                if isOrphan {
                    collector.add(DoctorFinding(.orphanChild, queue: keys.queueName, jobId: id, key: other,
                                                detail: "unfinished, but its parent \(other) does not exist"))
                } else {
                    collector.add(DoctorFinding(.missingDependency, queue: keys.queueName, jobId: id, key: other,
                                                detail: "waits for child \(other), which does not exist"))
                }
            }
        }
    }

    /// Where each job is now, by id.
    func inspect(_ ids: [String]) async throws -> [String: InspectedJob] {
        var result: [String: InspectedJob] = [:]
        for chunk in ids.chunked(100) {
            let reply = try await client.run(
                QueueScripts.doctorInspect.script, keys: QueueScripts.doctorInspect.keys(for: keys),
                arguments: [RedisArgument.string(keys.jobKeyPrefix)] + chunk.map { RedisArgument.string($0) })
            let values = reply.array?.map { $0.int ?? 0 } ?? []
            guard values.count == 4 * chunk.count else {
                throw QueueError(.unexpectedScriptResult, "doctorInspect returned \(reply)")
            }
            for (index, id) in chunk.enumerated() {
                result[id] = InspectedJob(states: UInt16(values[4 * index]), hashExists: values[4 * index + 1] == 1,
                                          lockExists: values[4 * index + 2] == 1, dependencies: values[4 * index + 3])
            }
        }
        return result
    }
}
