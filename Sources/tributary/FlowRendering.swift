import Foundation
import Tributary

/// The formats of `flow show`.
enum FlowFormat: String, CaseIterable {
    case tree, json, dot, mermaid
}

/// Draws a ``FlowRunView`` as text. Pure functions of the view and the current time (for active nodes' durations),
/// so the output of a fixed run is fixed.
enum FlowRendering {
    static func render(_ view: FlowRunView, format: FlowFormat, now: Int64,
                       treeOptions: FlowRunView.TreeOptions = .init()) -> String {
        switch format {
        case .tree: return tree(view, now: now, options: treeOptions)
        case .json: return json(view, now: now).prettyPrinted()
        case .dot: return dot(view, now: now)
        case .mermaid: return mermaid(view, now: now)
        }
    }

    // MARK: Tree

    /// The flow as an indented tree from its roots down to the nodes they need (laid out by
    /// ``FlowRunView/treeLayout(_:)``): a node reached a second time is drawn in full once, later places show
    /// `↪ <node> (shared, shown above)`; large groups of same-named siblings in one state are one line
    /// (`✔ process ×1000 (process-1 … process-1000)`); levels deeper than the layout's limit continue (`⤷`) as trees
    /// of their own below.
    static func tree(_ view: FlowRunView, now: Int64, options: FlowRunView.TreeOptions = .init()) -> String {
        var text = view.title + " · \(view.nodes.count) node\(view.nodes.count == 1 ? "" : "s"): \(view.stateSummary)"
        for line in view.treeLayout(options) {
            text += "\n"
            if line.depth > 0 {
                for guide in line.guides { text += guide ? "│  " : "   " }
                text += line.isLast ? "└─ " : "├─ "
            }
            if line.isContinuation { text += "⤷ " }
            text += self.line(line.content, in: view, now: now)
            // A map node's items (listed with --expand), under the node, above the nodes it needs.
            if case .node(let index) = line.content, let items = view.nodes[index].map?.items, !items.isEmpty {
                var lead = ""
                if line.depth > 0 {
                    for guide in line.guides { lead += guide ? "│  " : "   " }
                    lead += line.isLast ? "   " : "│  "
                }
                for item in items {
                    let result = item.result.map { " → " + cut($0.serialized(), 60) }
                        ?? item.failedReason.map { ": " + oneLine($0) } ?? ""
                    text += "\n" + lead + "    [\(item.index)] " + mark(item.state) + " "
                        + (item.state == .unknown ? "held or gone" : item.state.rawValue) + result
                }
            }
        }
        return text
    }

    /// The text of one tree line, without its indentation.
    static func line(_ content: FlowRunView.TreeLine.Content, in view: FlowRunView, now: Int64) -> String {
        switch content {
        case .node(let index):
            let node = view.nodes[index]
            return mark(node) + " " + node.label + "  " + details(node, now: now)
        case .shared(let index, let below):
            return "↪ \(view.nodes[index].label) (shared, shown \(below ? "below" : "above"))"
        case .missing(let key):
            return "? \(key) (missing)"
        case .group(let members):
            return mark(view.nodes[members[0]]) + " " + groupLabel(members, in: view) + "  "
                + groupDetails(members, in: view, now: now)
        case .sharedGroup(let members):
            return "↪ \(groupLabel(members, in: view)) (shared, shown above)"
        case .continued(let members):
            let label = members.count == 1 ? view.nodes[members[0]].label : groupLabel(members, in: view)
            return "⤷ \(label) (continued below)"
        }
    }

    /// `process ×1000 (process-1 … process-1000)`.
    static func groupLabel(_ members: [Int], in view: FlowRunView) -> String {
        let first = view.nodes[members[0]], last = view.nodes[members[members.count - 1]]
        return "\(first.name) ×\(members.count) (\(first.label) … \(last.label))"
    }

    /// The shared state of a group, with the range of its members' durations and the first failure reason:
    /// `completed in 12ms–1.5s`, `failed in 1.0s–2.0s: disk full`.
    static func groupDetails(_ members: [Int], in view: FlowRunView, now: Int64) -> String {
        let state = view.nodes[members[0]].state
        if view.nodes[members[0]].isSkipped { return "skipped (their condition did not hold)" }
        var text = state == .waitingChildren ? "waiting for their inputs" : FlowRunView.word(for: state)
        var shortest = Int64.max, longest = Int64.min
        var reason: String?
        for member in members {
            guard let job = view.nodes[member].job else { continue }
            if reason == nil, state == .failed, let failed = job.failedReason, !failed.isEmpty { reason = failed }
            guard let started = job.processedOn else { continue }
            let end: Int64? = state == .active ? now : (state == .completed || state == .failed) ? job.finishedOn : nil
            guard let end else { continue }
            shortest = min(shortest, max(0, end - started))
            longest = max(longest, max(0, end - started))
        }
        if shortest <= longest {
            let range = shortest == longest ? Output.duration(milliseconds: shortest)
                : Output.duration(milliseconds: shortest) + "–" + Output.duration(milliseconds: longest)
            text += (state == .active ? " for " : " in ") + range
        }
        if let reason { text += ": " + oneLine(reason) }
        return text
    }

    /// A node's mark: its state's, or ⊘ for a skipped node (its `when` did not hold).
    static func mark(_ node: FlowRunView.Node) -> String {
        node.isSkipped ? "⊘" : mark(node.state)
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
    static func details(_ node: FlowRunView.Node, now: Int64) -> String {
        guard let job = node.job else { return "gone (removed or trimmed)" }
        if node.isSkipped { return "skipped (its condition did not hold)" }
        if let map = node.map, node.state != .completed, node.state != .failed {
            return map.expanded == 0 && node.state != .active
                ? (node.state == .waitingChildren ? "waiting for its inputs" : FlowRunView.word(for: node.state)) : map.summary
        }
        if let map = node.map, map.failed > 0 || node.state == .failed {
            return FlowRunView.word(for: node.state) + " (" + map.summary + ")" + (job.failedReason.map { ": " + oneLine($0) } ?? "")
        }
        var text = node.state == .waitingChildren ? "waiting for its inputs" : FlowRunView.word(for: node.state)
        if let holder = node.deduplicatedBy { text += " (deduplicated: takes the outcome of job \(holder))" }
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
            text += " → " + cut(result.redactingEncryptedFields().serialized(), 60)
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

    static func json(_ view: FlowRunView, now: Int64) -> JSONValue {
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
                "jobId": .string(node.jobId), "state": .string(FlowRunView.word(for: node.state)),
                "needs": .array(node.needs.map { .string($0) }),
            ]
            if let job = node.job {
                entry["attemptsMade"] = .int(Int64(job.attemptsMade))
                entry["processedOn"] = job.processedOn.map { .int($0) } ?? .null
                entry["finishedOn"] = job.finishedOn.map { .int($0) } ?? .null
                entry["returnvalue"] = job.returnValue ?? .null
                entry["failedReason"] = job.failedReason.map { .string($0) } ?? .null
                if let holder = node.deduplicatedBy { entry["deduplicatedBy"] = .string(holder) }
            }
            return .object(entry)
        })
        return .object(object)
    }

    // MARK: Graphviz and Mermaid

    /// Graphviz: edges run from a needed node to the node that needs it (the way data flows).
    static func dot(_ view: FlowRunView, now: Int64) -> String {
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
    static func mermaid(_ view: FlowRunView, now: Int64) -> String {
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
            let name = FlowRunView.word(for: state).replacingOccurrences(of: "-", with: "_")
            lines.append("  classDef \(name) fill:\(color(state))")
            lines.append("  class \(members.joined(separator: ",")) \(name)")
        }
        return lines.joined(separator: "\n")
    }

    /// The state and timing, without results: `✔ completed in 12ms`.
    static func summary(_ node: FlowRunView.Node, now: Int64) -> String {
        var text = mark(node.state) + " " + FlowRunView.word(for: node.state)
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
