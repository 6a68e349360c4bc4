import Testing
@testable import Tributary

/// ``FlowRunView/dagLayout(_:)``: layers by longest path from the roots, one box per node, barycenter ordering.
@Suite("Flow run DAG layout")
struct FlowRunViewLayoutTests {
    /// A run of `edges` (node → the nodes it needs), nodes listed each after its needs.
    static func view(_ nodes: [(String, [String])], roots: [String]? = nil, states: [String: JobState] = [:]) -> FlowRunView {
        var dependents: [String: [String]] = [:]
        for (id, needs) in nodes { for need in needs { dependents[need, default: []].append(id) } }
        let sinks = roots ?? nodes.map(\.0).filter { dependents[$0] == nil }
        return FlowRunView(run: FlowRun(id: "r", flow: "f", prefix: "bull", createdAt: 0, cancelledAt: nil, roots: sinks,
                                        nodes: nodes.map { id, needs in
            FlowRunNode(id: id, name: id, queue: "q", jobId: "r.\(id)", needs: needs, dependents: dependents[id] ?? [],
                        state: states[id] ?? .waiting, job: nil)
        }))
    }

    @Test("layers follow the longest path from the roots, and every node is left of the nodes needing it")
    func longestPathLayers() {
        // a → b → c and a → c: a is two layers from c, not one.
        let view = Self.view([("a", []), ("b", ["a"]), ("c", ["a", "b"])])
        let layout = view.dagLayout()
        let layer = Dictionary(uniqueKeysWithValues: layout.boxes.map { (view.nodes[$0.node].key, $0.layer) })
        #expect(layer == ["c": 0, "b": 1, "a": 2])
        #expect(layout.layerCount == 3)
        for edge in layout.edges { #expect(layout.boxes[edge.from].x < layout.boxes[edge.to].x) }
    }

    @Test("a node several nodes need is drawn once, with all its edges")
    func sharedNodeOnce() {
        let view = Self.view([("src", []), ("l", ["src"]), ("r", ["src"]), ("m", ["src"]), ("join", ["l", "r", "m", "src"])])
        let layout = view.dagLayout()
        #expect(layout.boxes.count == 5)
        #expect(Set(layout.boxes.map(\.node)).count == 5)
        let fromSource = layout.edges.filter { view.nodes[$0.from].key == "src" }.map { view.nodes[$0.to].key }
        #expect(Set(fromSource) == ["l", "r", "m", "join"])
        #expect(layout.edges.count == 7)
        // No two boxes overlap.
        let spots = Set(layout.boxes.map { "\($0.x),\($0.y)" })
        #expect(spots.count == 5)
    }

    @Test("barycenter sweeps remove the crossings of a first-seen order")
    func barycenterUncrosses() {
        // Two chains whose first-seen order crosses: x1 feeds y2, x2 feeds y1, with y1 listed first.
        let view = Self.view([("x2", []), ("x1", []), ("y1", ["x2"]), ("y2", ["x1"]), ("z", ["y2", "y1"])])
        let unordered = view.dagLayout(.init(sweeps: 0))
        let ordered = view.dagLayout(.init(sweeps: 4))
        // A larger case: a bipartite layer in reverse order.
        var nodes: [(String, [String])] = (0..<6).map { ("s\($0)", []) }
        nodes += (0..<6).map { ("t\($0)", ["s\(5 - $0)"]) }
        nodes.append(("end", (0..<6).map { "t\($0)" }))
        let reversed = Self.view(nodes)
        let before = reversed.dagLayout(.init(sweeps: 0)).adjacentCrossings
        let after = reversed.dagLayout(.init(sweeps: 4)).adjacentCrossings
        #expect(before == 15, "six edges in reverse order cross pairwise")
        #expect(after == 0)
        #expect(ordered.adjacentCrossings <= unordered.adjacentCrossings)
        #expect(ordered.adjacentCrossings == 0)
    }

    @Test("a BullMQ tree lays out the same way: the root on the right, a job reached twice drawn once")
    func treeLayout() throws {
        let keys = QueueKeys(queueName: "t")
        func job(_ id: String) -> Job { Job(id: id, queue: keys, fields: ["name": id, "data": "{}", "timestamp": "1"]) }
        let shared = FlowTree(job: job("shared"), state: .completed, childCounts: .init(), children: [])
        let tree = FlowTree(job: job("root"), state: .waitingChildren, childCounts: .init(), children: [
            FlowTree(job: job("a"), state: .completed, childCounts: .init(), children: [shared]),
            FlowTree(job: job("b"), state: .failed, childCounts: .init(), children: [shared]),
        ])
        let view = FlowRunView(tree: tree)
        let layout = view.dagLayout()
        #expect(layout.boxes.count == 4)
        let byKey = Dictionary(uniqueKeysWithValues: layout.boxes.map { (view.nodes[$0.node].jobId, $0) })
        #expect(byKey["root"]?.layer == 0 && byKey["a"]?.layer == 1 && byKey["shared"]?.layer == 2)
        #expect(try #require(byKey["root"]).x > #require(byKey["a"]).x)
        #expect(layout.edges.filter { view.nodes[$0.from].jobId == "shared" }.count == 2)
    }

    @Test("a long chain and a wide fan-out lay out in linear passes (10,000 nodes)")
    func large() {
        var nodes: [(String, [String])] = [("root", [])]
        for index in 0..<5000 { nodes.append(("c\(index)", [index == 0 ? "root" : "c\(index - 1)"])) }
        for index in 0..<4998 { nodes.append(("f\(index)", ["root"])) }
        nodes.append(("sink", ["c4999"] + (0..<4998).map { "f\($0)" }))
        let view = Self.view(nodes)
        let layout = view.dagLayout()
        #expect(layout.boxes.count == 10_000)
        #expect(layout.layerCount == 5002)
        #expect(layout.edges.count == 5000 + 4998 + 4999)
    }
}
