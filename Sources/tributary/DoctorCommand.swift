import ArgumentParser
import Foundation
import Tributary

/// `tributary doctor`: finds (and with --fix repairs) inconsistencies in queues and flow runs.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check queues and flow runs for inconsistencies; --fix repairs what is safe to repair.",
        discussion: """
            Looks for: jobs in no state list or in two, state lists naming jobs that do not exist, dependencies on \
            jobs that do not exist, parents in waiting-children with nothing pending, unfinished children whose \
            parent is gone, locks of jobs that are not active, active jobs without a lock for longer than \
            --lock-duration, flow runs whose record disagrees with their jobs, and queue keys of the wrong type. \
            It reads with SCAN and paged reads (safe on a live server) and confirms every finding atomically \
            before reporting it.

            --fix repairs, each after an atomic re-check: a job in no state goes to failed (with a reason saying \
            so); dangling ids, dependencies, locks and parent links are removed; stuck parents move on; unlocked \
            active jobs are marked stalled so the next stalled check returns them to wait. Jobs in two states, \
            run records and wrong key types are reported only.

            --json prints {"queues", "jobsExamined", "runsExamined", "counts": {kind: n}, "findings": [{"kind", \
            "queue", "jobId", "key", "detail"}], "repairs": [{"kind", "key", "repaired", "action"}]}.

            Exit codes: 0 nothing found (or everything found was repaired), 1 problems remain, 3 Redis unreachable.

            Examples:
              tributary doctor
              tributary doctor emails reports --json
              tributary doctor --fix
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Queues to check (default: every queue under the prefix).")
    var queues: [String] = []

    @Flag(help: "Repair what is safe to repair, and say what was done.")
    var fix = false

    @Option(help: "How long an active job may go without a lock before it is reported (the workers' lock duration).")
    var lockDuration = DurationArgument(.seconds(30), text: "30s")

    @OptionGroup var output: JSONOutputOption

    func validate() throws {
        if let bad = queues.first(where: { $0.isEmpty || $0.contains(":") }) {
            throw ValidationError("queue name '\(bad)' must be non-empty and must not contain ':'")
        }
        guard lockDuration.duration > .zero else { throw ValidationError("--lock-duration must be positive") }
    }

    func run() async throws {
        try await connection.withClient { client in
            let doctor = QueueDoctor(client: client, prefix: connection.prefix, lockDuration: lockDuration.duration)
            let json = output.json
            let report = try await doctor.examine(queues: queues.isEmpty ? nil : queues) { line in
                if !json { FileHandle.standardError.write(Data("doctor: \(line)\n".utf8)) }
            }
            let repairs = fix ? try await doctor.repair(report) : []
            if json {
                print(Self.json(report, repairs).prettyPrinted())
            } else {
                print(Self.text(report, repairs, fixing: fix))
            }
            let repaired = Set(repairs.filter(\.repaired).map(\.finding))
            let remaining = report.counts.values.reduce(0, +) - repaired.count
            if remaining > 0 { throw ExitCode(ExitStatus.failed.rawValue) }
        }
    }

    static func text(_ report: DoctorReport, _ repairs: [DoctorRepair], fixing: Bool) -> String {
        var lines = ["examined \(report.queues.count) queue(s), \(report.jobsExamined) job(s), "
            + "\(report.runsExamined) flow run(s)"]
        if report.isHealthy {
            lines.append("no problems found")
            return lines.joined(separator: "\n")
        }
        let repairByFinding = Dictionary(repairs.map { ($0.finding, $0) }) { first, _ in first }
        for kind in DoctorFinding.Kind.allCases {
            guard let count = report.counts[kind], count > 0 else { continue }
            lines.append("")
            lines.append("\(kind.rawValue): \(count)")
            for finding in report.findings where finding.kind == kind {
                var line = "  \(finding.queue)  \(finding.jobId.map { "job \($0)  " } ?? "")\(finding.key): \(finding.detail)"
                if let repair = repairByFinding[finding] {
                    line += "\n    \(repair.repaired ? "repaired" : "not repaired"): \(repair.action)"
                }
                lines.append(line)
            }
            let listed = report.findings.filter { $0.kind == kind }.count
            if listed < count { lines.append("  … and \(count - listed) more (run again after repairing)") }
            if !fixing { lines.append("  --fix: \(kind.repairDescription)") }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: DoctorReport, _ repairs: [DoctorRepair]) -> JSONValue {
        var counts = JSONObject()
        for kind in DoctorFinding.Kind.allCases { counts[kind.rawValue] = .int(Int64(report.counts[kind] ?? 0)) }
        return .object([
            "queues": .array(report.queues.map { .string($0) }),
            "jobsExamined": .int(Int64(report.jobsExamined)),
            "runsExamined": .int(Int64(report.runsExamined)),
            "counts": .object(counts),
            "findings": .array(report.findings.map { finding in
                .object(["kind": .string(finding.kind.rawValue), "queue": .string(finding.queue),
                         "jobId": finding.jobId.map { .string($0) } ?? .null, "key": .string(finding.key),
                         "detail": .string(finding.detail)])
            }),
            "repairs": .array(repairs.map { repair in
                .object(["kind": .string(repair.finding.kind.rawValue), "key": .string(repair.finding.key),
                         "jobId": repair.finding.jobId.map { .string($0) } ?? .null,
                         "repaired": .bool(repair.repaired), "action": .string(repair.action)])
            }),
        ])
    }
}
