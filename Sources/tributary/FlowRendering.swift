import Foundation
import Tributary

/// The formats of `flow show`.
enum FlowFormat: String, CaseIterable {
    case tree, json, dot, mermaid
}

/// Draws a ``FlowView`` as text. Pure functions of the view and the current time (for active nodes' durations),
/// so the output of a fixed run is fixed.
enum FlowRendering {
    static func render(_ view: FlowView, format: FlowFormat, now: Int64) -> String {
        switch format {
        case .tree: return tree(view, now: now)
        case .json: return json(view, now: now).prettyPrinted()
        case .dot: return dot(view, now: now)
        case .mermaid: return mermaid(view, now: now)
        }
    }

    // MARK: Tree

    /// The flow as an indented tree from its roots down to the nodes they need. A node reached a second time (a
    /// shared DAG node) is drawn in full once; later places show `↪ <node> (shared, shown above)`.
    static func tree(_ view: FlowView, now: Int64) -> String {
        var lines = [view.title + " · \(view.nodes.count) node\(view.nodes.count == 1 ? "" : "s"): \(view.stateSummary)"]
        var drawn: Set<String> = []
        func draw(_ key: String, lead: String, connector: String) {
            guard let node = view.node(key) else {
                lines.append(lead + connector + "? \(key) (missing)")
                return
            }
            if drawn.contains(key) {
                lines.append(lead + connector + "↪ \(node.label) (shared, shown above)")
                return
            }
            drawn.insert(key)
            lines.append(lead + connector + (isSkipped(node) ? "⊘" : mark(node.state)) + " " + node.label + "  " + details(node, now: now))
            for item in node.map?.items ?? [] {
                let result = item.result.map { " → " + cut($0.serialized(), 60) } ?? item.failedReason.map { ": " + oneLine($0) } ?? ""
                lines.append(lead + (connector.isEmpty ? "" : "│  ") + "    [\(item.index)] " + mark(item.state) + " "
                             + (item.state == .unknown ? "held or gone" : item.state.rawValue) + result)
            }
            let childLead = lead + (connector == "├─ " ? "│  " : connector.isEmpty ? "" : "   ")
            for (position, need) in node.needs.enumerated() {
                draw(need, lead: childLead, connector: position == node.needs.count - 1 ? "└─ " : "├─ ")
            }
        }
        for root in view.roots { draw(root, lead: "", connector: "") }
        return lines.joined(separator: "\n")
    }

    /// A node of a run whose `when` did not hold (completed without running, field `skipped`).
    static func isSkipped(_ node: FlowView.Node) -> Bool {
        node.state == .completed && node.job?.fields["skipped"] == "1"
    }

    static func mark(_ state: JobState) -> String {
        switch state {
        case .completed: return "✔"
        case .failed: return "✘"
        case .active: return "▶"
        case .waiting, .prioritized: return "○"
        case .delayed: return "◷"
        case .waitingChildren: return "◌"
        case .unknown: return "?"
        }
    }

    /// `completed in 12ms → {"rows":3}`, `failed after 3 attempts in 1.2s: reason`, `active for 4.0s`, `waiting`.
    static func details(_ node: FlowView.Node, now: Int64) -> String {
        guard let job = node.job else { return "gone (removed or trimmed)" }
        if isSkipped(node) { return "skipped (its condition did not hold)" }
        if let map = node.map, node.state != .completed, node.state != .failed {
            return map.expanded == 0 && node.state != .active ? (node.state == .waitingChildren ? "waiting for its inputs" : node.state.rawValue)
                : map.summary
        }
        if let map = node.map, map.failed > 0 || node.state == .failed {
            return node.state.rawValue + " (" + map.summary + ")" + (job.failedReason.map { ": " + oneLine($0) } ?? "")
        }
        var text = node.state == .waitingChildren ? "waiting for its inputs" : node.state.rawValue
        let attempts = node.state == .active ? job.attemptsStarted : job.attemptsMade
        switch node.state {
        case .completed, .failed:
            if job.attemptsMade > 1 { text += " after \(job.attemptsMade) attempts" }
            if let started = job.processedOn, let finished = job.finishedOn {
                text += " in " + Output.duration(milliseconds: max(0, finished - started))
            }
        case .active:
            if let started = job.processedOn { text += " for " + Output.duration(milliseconds: max(0, now - started)) }
            if attempts > 1 { text += " (attempt \(attempts))" }
        case .delayed, .waiting, .prioritized:
            if job.attemptsMade > 0 { text += " (\(job.attemptsMade) attempt\(job.attemptsMade == 1 ? "" : "s") failed)" }
        default:
            break
        }
        if node.state == .completed, let result = job.returnValue {
            text += " → " + cut(result.serialized(), 60)
        } else if node.state == .failed || (node.state != .completed && job.attemptsMade > 0),
                  let reason = job.failedReason, !reason.isEmpty {
            text += ": " + oneLine(reason)
        }
        return text
    }

    /// A failure reason on one short line: its first line, and its last when it has several (for a command
    /// step, the last line of stderr).
    static func oneLine(_ reason: String) -> String {
        let lines = reason.split(separator: "\n").map(String.init)
        guard lines.count > 1, var first = lines.first, let last = lines.last else { return cut(reason, 100) }
        // A command step's reason: "command `…` exited with status N; stderr:" then the stderr tail.
        if first.hasPrefix("command `"), first.hasSuffix("; stderr:"),
           let close = first.dropFirst("command `".count).lastIndex(of: "`") {
            first = String(first[first.index(after: close)...].dropLast("; stderr:".count)).trimmingCharacters(in: .whitespaces)
        }
        return cut(first, 60) + " … " + cut(last, 60)
    }

    static func cut(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    // MARK: JSON

    static func json(_ view: FlowView, now: Int64) -> JSONValue {
        var object = JSONObject()
        if let runId = view.runId {
            object["run"] = .string(runId)
            object["status"] = view.status.map { .string($0.rawValue) } ?? .null
            object["createdAt"] = view.createdAt.map { .int($0) } ?? .null
        }
        object["roots"] = .array(view.roots.map { .string($0) })
        object["nodes"] = .array(view.nodes.map { node in
            var entry: JSONObject = [
                "key": .string(node.key), "name": .string(node.name), "queue": .string(node.queue),
                "jobId": .string(node.jobId), "state": .string(node.state.rawValue),
                "needs": .array(node.needs.map { .string($0) }),
            ]
            if let job = node.job {
                entry["attemptsMade"] = .int(Int64(job.attemptsMade))
                entry["processedOn"] = job.processedOn.map { .int($0) } ?? .null
                entry["finishedOn"] = job.finishedOn.map { .int($0) } ?? .null
                entry["returnvalue"] = job.returnValue ?? .null
                entry["failedReason"] = job.failedReason.map { .string($0) } ?? .null
            }
            return .object(entry)
        })
        return .object(object)
    }

    // MARK: Graphviz and Mermaid

    /// Graphviz: edges run from a needed node to the node that needs it (the way data flows).
    static func dot(_ view: FlowView, now: Int64) -> String {
        func quoted(_ text: String) -> String { JSONValue.string(text).serialized() }
        var lines = ["digraph \(quoted(view.runId.map { "run \($0)" } ?? "flow")) {", "  rankdir=LR;",
                     "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"]
        for node in view.nodes {
            let label = "\(node.label)\n\(summary(node, now: now))"
            lines.append("  \(quoted(node.key)) [label=\(quoted(label)), fillcolor=\(quoted(color(node.state)))];")
        }
        for node in view.nodes {
            for need in node.needs { lines.append("  \(quoted(need)) -> \(quoted(node.key));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// Mermaid flowchart: nodes `n0…` with their label and state, edges from needed node to dependent.
    static func mermaid(_ view: FlowView, now: Int64) -> String {
        let ids = Dictionary(view.nodes.enumerated().map { ($1.key, "n\($0)") }) { first, _ in first }
        func escaped(_ text: String) -> String {
            var result = ""
            for character in text {
                switch character {
                case "\"": result += "#quot;"
                case "<": result += "#lt;"
                case ">": result += "#gt;"
                default: result.append(character)
                }
            }
            return result
        }
        var lines = ["flowchart LR"]
        for node in view.nodes {
            lines.append("  \(ids[node.key]!)[\"\(escaped(node.label))<br/>\(escaped(summary(node, now: now)))\"]")
        }
        for node in view.nodes {
            for need in node.needs { if let from = ids[need] { lines.append("  \(from) --> \(ids[node.key]!)") } }
        }
        for state in JobState.allCases {
            let members = view.nodes.filter { $0.state == state }.map { ids[$0.key]! }
            guard !members.isEmpty else { continue }
            let name = state.rawValue.replacingOccurrences(of: "-", with: "_")
            lines.append("  classDef \(name) fill:\(color(state))")
            lines.append("  class \(members.joined(separator: ",")) \(name)")
        }
        return lines.joined(separator: "\n")
    }

    /// The state and timing, without results: `✔ completed in 12ms`.
    static func summary(_ node: FlowView.Node, now: Int64) -> String {
        var text = mark(node.state) + " " + node.state.rawValue
        if let job = node.job, let started = job.processedOn {
            if let finished = job.finishedOn, node.state == .completed || node.state == .failed {
                text += " in " + Output.duration(milliseconds: max(0, finished - started))
            } else if node.state == .active {
                text += " for " + Output.duration(milliseconds: max(0, now - started))
            }
        }
        return text
    }

    static func color(_ state: JobState) -> String {
        switch state {
        case .completed: return "#c8e6c9"
        case .failed: return "#ffcdd2"
        case .active: return "#bbdefb"
        case .delayed: return "#fff9c4"
        case .waiting, .prioritized, .waitingChildren: return "#eeeeee"
        case .unknown: return "#ffffff"
        }
    }
}
