import Foundation
import Testing
@testable import Tributary
@testable import tributary

/// The library's view of a run (``FlowRunView``, its tree layout, ``FlowRunProgress``) as the CLI draws it: long
/// chains, wide fan-outs, the state word of a gone node, and the live progress frame.
@Suite("Flow run view")
struct FlowRunViewTests {
    static let t0: Int64 = 1_700_000_000_000

    /// A node whose job completed in `took` ms (or is in `state`, with no timings).
    static func node(_ id: String, name: String? = nil, needs: [String] = [], state: JobState = .completed,
                     took: Int64 = 5, reason: String? = nil) -> FlowRunNode {
        var fields = ["name": name ?? id, "data": "{}", "timestamp": "\(t0)"]
        if state == .completed || state == .failed {
            fields["processedOn"] = "\(t0 + 10)"
            fields["finishedOn"] = "\(t0 + 10 + took)"
            fields["atm"] = "1"
        }
        if state == .active { fields["processedOn"] = "\(t0 + 10)"; fields["ats"] = "1" }
        if let reason { fields["failedReason"] = reason }
        let job = state == .unknown ? nil : Job(id: "r.\(id)", queue: QueueKeys(queueName: "q"), fields: fields)
        return FlowRunNode(id: id, name: name ?? id, queue: "q", jobId: "r.\(id)", needs: needs, dependents: [],
                           state: state, job: job)
    }

    static func run(_ nodes: [FlowRunNode], roots: [String], id: String = "r") -> FlowRun {
        FlowRun(id: id, flow: "f", prefix: "bull", createdAt: t0, cancelledAt: nil, roots: roots, nodes: nodes)
    }

    /// step-1 ← step-2 ← … ← step-n (each needs the one before).
    static func chain(_ count: Int) -> FlowRun {
        run((1...count).map { node("step-\($0)", needs: $0 == 1 ? [] : ["step-\($0 - 1)"]) }, roots: ["step-\(count)"])
    }

    /// split → `width` nodes named `process` → join.
    static func fan(_ width: Int, failed: Set<Int> = []) -> FlowRun {
        let processes = (1...width).map { index in
            node("process-\(index)", name: "process", needs: ["split"], state: failed.contains(index) ? .failed : .completed,
                 took: Int64(index), reason: failed.contains(index) ? "boom \(index)" : nil)
        }
        return run([node("split")] + processes + [node("join", needs: processes.map(\.id))], roots: ["join"])
    }

    @Test("a 3,000-node chain is drawn (it crashed the recursive drawing): every node once, lines stay short")
    func longChain() {
        let view = FlowRunView(run: Self.chain(3000))
        let lines = FlowRendering.tree(view, now: Self.t0).split(separator: "\n").map(String.init)
        #expect(lines[0] == "run r (flow f): completed · 3000 nodes: 3000 completed")
        #expect(lines[1] == "✔ step-3000  completed in 5ms")
        #expect(lines[2] == "└─ ✔ step-2999  completed in 5ms")
        let drawn = lines.filter { $0.contains("✔ step-") }
        #expect(drawn.count == 3000)
        #expect(Set(drawn.map { $0.split(separator: " ").first { $0.hasPrefix("step-") }! }).count == 3000)
        // Levels past 32 continue below as trees of their own: one ⤷ … (continued below) per continued tree.
        #expect(lines.contains(String(repeating: " ", count: 96) + "└─ ⤷ step-2967 (continued below)"))
        #expect(lines.contains("⤷ ✔ step-2967  completed in 5ms"))
        #expect(lines.allSatisfy { $0.count < 130 })
        // Nothing drawn twice, nothing referenced: a chain has no shared nodes.
        #expect(!lines.contains { $0.contains("↪") })
    }

    @Test("continuation text of a small chain with a low depth limit, exactly")
    func continuationText() {
        let view = FlowRunView(run: Self.chain(5))
        let text = FlowRendering.tree(view, now: Self.t0, options: .init(maxDepth: 2))
        #expect(text == """
            run r (flow f): completed · 5 nodes: 5 completed
            ✔ step-5  completed in 5ms
            └─ ✔ step-4  completed in 5ms
               └─ ✔ step-3  completed in 5ms
                  └─ ⤷ step-2 (continued below)
            ⤷ ✔ step-2  completed in 5ms
            └─ ✔ step-1  completed in 5ms
            """)
    }

    @Test("a wide fan-out is one line with a count; --expand draws every node; failed siblings stay separate")
    func wideFanOut() {
        let small = FlowRunView(run: Self.fan(20))
        #expect(FlowRendering.tree(small, now: Self.t0) == """
            run r (flow f): completed · 22 nodes: 22 completed
            ✔ join  completed in 5ms
            └─ ✔ process ×20 (process-1 … process-20)  completed in 1ms–20ms
               └─ ✔ split  completed in 5ms
            """)
        let expanded = FlowRendering.tree(small, now: Self.t0, options: .init(summariseAt: nil))
        #expect(expanded.split(separator: "\n").count == 1 + 1 + 20 + 1 + 19)
        #expect(expanded.contains("├─ ✔ process-1  completed in 1ms\n│  └─ ✔ split  completed in 5ms\n├─ ✔ process-2  completed in 2ms\n│  └─ ↪ split (shared, shown above)"))

        let big = FlowRunView(run: Self.fan(5_000, failed: [7, 9]))
        let lines = FlowRendering.tree(big, now: Self.t0).split(separator: "\n").map(String.init)
        #expect(lines == [
            "run r (flow f): completed · 5002 nodes: 5000 completed, 2 failed",
            "✔ join  completed in 5ms",
            "├─ ✔ process ×4998 (process-1 … process-5000)  completed in 1ms–5.0s",
            "│  └─ ✔ split  completed in 5ms",
            "├─ ✘ process-7  failed in 7ms: boom 7",
            "│  └─ ↪ split (shared, shown above)",
            "└─ ✘ process-9  failed in 9ms: boom 9",
            "   └─ ↪ split (shared, shown above)",
        ])
    }

    @Test("a gone node reads 'gone' in every format (JSON said 'unknown', the tree 'gone')")
    func goneIsOneWord() throws {
        let view = FlowRunView(run: Self.run([Self.node("a", state: .unknown), Self.node("b", needs: ["a"])], roots: ["b"]))
        #expect(FlowRendering.tree(view, now: Self.t0).contains("? a  gone (removed or trimmed)"))
        #expect(view.stateSummary == "1 completed, 1 gone")
        let json = FlowRendering.json(view, now: Self.t0)
        #expect(json["nodes"]?[0]?["state"] == "gone")
        #expect(FlowRendering.mermaid(view, now: Self.t0).contains("classDef gone fill:#ffffff"))
        #expect(FlowRendering.dot(view, now: Self.t0).contains("? gone"))
    }

    @Test("a BullMQ tree read by getFlow becomes a view with each node after the nodes it needs")
    func treeOrder() {
        let keys = QueueKeys(queueName: "q")
        func tree(_ id: String, _ children: [FlowTree]) -> FlowTree {
            FlowTree(job: Job(id: id, queue: keys, fields: ["name": id, "data": "{}", "timestamp": "1"]), state: .waiting,
                     childCounts: DependencyCounts(unprocessed: children.count),
                     children: children)
        }
        // root needs b and c; b needs c as well (c reached twice).
        let c = tree("c", [])
        let view = FlowRunView(tree: tree("root", [tree("b", [c]), c]))
        #expect(view.nodes.map(\.jobId) == ["c", "b", "root"])
        #expect(view.node("bull:q:root")?.needs == ["bull:q:b", "bull:q:c"])
    }

    @Test("the live progress frame fits the terminal: summary, bar, failed, active (cut), newest events")
    func progressFrame() {
        var nodes = (1...300).map { Self.node("work-\($0)", name: "work", state: .active) }
        nodes += (1...5).map { Self.node("bad-\($0)", state: .failed, reason: "exit 1") }
        nodes += (1...100).map { Self.node("done-\($0)") }
        var progress = FlowRunProgress()
        let first = progress.update(Self.run(nodes, roots: []), now: Self.t0 + 1000)
        #expect(first.count == 405)
        let frame = ProgressDisplay.frame(progress, createdAt: Self.t0, now: Self.t0 + 2000, rows: 24, columns: 60)
        #expect(frame.count <= 23)
        #expect(frame.allSatisfy { $0.count < 60 })
        #expect(frame[0].hasPrefix("run r (flow f): running · 405 nodes: 100 completed, 300 a"))
        #expect(frame[1].hasPrefix("[") && frame[1].contains("105/405 finished · 2.0s"))
        #expect(frame.contains("failed (5):") && frame.contains("active (300):") && frame.contains("newest events:"))
        #expect(frame.contains { $0.hasPrefix("  … and ") && $0.hasSuffix(" more") })
        #expect(!frame.joined().contains("\u{1B}"))
        // A second reading reports only what changed.
        nodes[0] = Self.node("work-1", name: "work")
        #expect(progress.update(Self.run(nodes, roots: []), now: Self.t0 + 3000).map(\.key) == ["work-1"])
        #expect(progress.recentEvents.last?.key == "work-1" && progress.activeNodes.count == 299)
    }
}
