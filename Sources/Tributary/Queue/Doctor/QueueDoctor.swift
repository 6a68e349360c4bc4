/// Examines the queues under a prefix for inconsistencies that hurt users (jobs in no state, dangling
/// dependencies, stuck parents, stray locks, run records that disagree with their jobs, keys of the wrong type),
/// and repairs what is safe to repair.
///
/// The examination reads with SCAN and paged LRANGE/ZRANGE, so it runs on a live server without blocking it,
/// and keeps one small entry per job in memory. Because jobs move while it reads, every candidate is confirmed
/// by an atomic re-read (a script) before it is reported; a job that was only moving is not reported. On a busy
/// queue a real problem that appears during the examination may be missed until the next one.
///
/// ```swift
/// let doctor = QueueDoctor(client: client)
/// let report = try await doctor.examine()
/// for finding in report.findings { print(finding.kind, finding.key, finding.detail) }
/// let repairs = try await doctor.repair(report)
/// ```
public struct QueueDoctor: Sendable {
    /// The connection used.
    public let client: RedisClient
    /// The key prefix whose queues are examined.
    public let prefix: String
    /// How long an active job may be without a lock before it is reported (the workers' lock duration).
    public let lockDuration: Duration
    /// The most findings of one kind listed in a report (all are counted).
    public static let findingLimit = 1000

    /// Creates a doctor for the queues under `prefix`.
    public init(client: RedisClient, prefix: String = "bull", lockDuration: Duration = .seconds(30)) {
        self.client = client
        self.prefix = prefix
        self.lockDuration = lockDuration
    }

    /// Examines the named queues (every queue under the prefix when `nil`) and the prefix's flow runs.
    ///
    /// - Parameters:
    ///   - queues: the queues to examine; every queue found under the prefix when `nil`.
    ///   - progress: called with a line of text as each queue is examined.
    public func examine(queues: [String]? = nil,
                        progress: (@Sendable (String) -> Void)? = nil) async throws -> DoctorReport {
        let names: [String]
        if let queues { names = queues } else { names = try await Queue.names(client: client, prefix: prefix) }
        var collector = FindingCollector()
        var jobs = 0, scanned = 0
        for name in names where name != FlowProducer.reservedQueueName {
            progress?("examining queue '\(name)'")
            let examination = QueueExamination(doctor: self, keys: QueueKeys(prefix: prefix, queueName: name))
            let result = try await examination.run(into: &collector)
            jobs += result.jobs
            scanned += result.keys
        }
        progress?("examining flow runs")
        let runs = try await RunExamination(doctor: self, queues: queues.map(Set.init)).run(into: &collector)
        return DoctorReport(queues: names.filter { $0 != FlowProducer.reservedQueueName }, jobsExamined: jobs,
                            keysScanned: scanned, runsExamined: runs, findings: collector.findings,
                            counts: collector.counts)
    }

    /// Repairs each repairable finding of a report, re-checking atomically that it still holds.
    ///
    /// Findings of kinds that are not repairable (``DoctorFinding/Kind/isRepairable``) are returned with
    /// `repaired == false` and the reason.
    public func repair(_ report: DoctorReport) async throws -> [DoctorRepair] {
        var repairs: [DoctorRepair] = []
        let now = EpochClock.milliseconds()
        for finding in report.findings {
            guard finding.kind.isRepairable, let jobId = finding.jobId else {
                repairs.append(DoctorRepair(finding: finding, repaired: false, action: finding.kind.repairDescription))
                continue
            }
            let keys = QueueKeys(prefix: prefix, queueName: finding.queue)
            let reply = try await client.run(
                QueueScripts.doctorRepair.script, keys: QueueScripts.doctorRepair.keys(for: keys),
                arguments: [.string(keys.jobKeyPrefix), .integer(now), .string(finding.kind.rawValue), .string(jobId),
                            .string(finding.key)])
            guard let status = reply.int, status >= 0 else {
                throw QueueError(.unexpectedScriptResult, "doctorRepair returned \(reply) for \(finding.key)")
            }
            repairs.append(DoctorRepair(
                finding: finding, repaired: status > 0,
                action: status > 0 ? finding.kind.repairDescription : "no longer the case: left alone"))
        }
        return repairs
    }
}

/// Findings as they are confirmed: all counted, the first ``QueueDoctor/findingLimit`` of each kind kept.
struct FindingCollector {
    private(set) var findings: [DoctorFinding] = []
    private(set) var counts: [DoctorFinding.Kind: Int] = [:]

    mutating func add(_ finding: DoctorFinding) {
        let count = counts[finding.kind, default: 0]
        counts[finding.kind] = count + 1
        if count < QueueDoctor.findingLimit { findings.append(finding) }
    }
}
