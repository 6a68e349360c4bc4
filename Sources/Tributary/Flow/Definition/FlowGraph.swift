/// The dependency checks of a flow (unknown, self and repeated needs, cycles, duplicate job ids) and the ordering
/// of a valid one.
struct FlowGraph {
    private let nodes: [DraftNode]
    /// Position of each node in `nodes`, by id (compared by Unicode scalars, as JSON keys are).
    private let index: [JSONKey: Int]
    /// For each node, the positions of the nodes it needs (valid entries only, without repeats or itself).
    private var edges: [[Int]]

    /// Checks the dependencies of `draft`, recording every problem; returns the graph of its valid edges.
    init(_ draft: FlowDraft, problems: inout FlowProblems) {
        nodes = draft.nodes
        var index: [JSONKey: Int] = [:]
        for (position, node) in nodes.enumerated() where index[JSONKey(node.id)] == nil {
            index[JSONKey(node.id)] = position
        }
        self.index = index
        Self.reportLookalikeIds(nodes, problems: &problems)
        edges = []
        for node in nodes {
            edges.append(checkNeeds(of: node, problems: &problems))
        }
        reportCycles(problems: &problems)
        reportDuplicateJobIds(problems: &problems)
    }

    private func checkNeeds(of node: DraftNode, problems: inout FlowProblems) -> [Int] {
        var targets: [Int] = []
        var seen: Set<JSONKey> = []
        for need in node.needs {
            if JSONKey(need.id) == JSONKey(node.id) {
                problems.add(.selfDependency, at: need.path, node: node.id, "node '\(node.id)' needs itself")
            } else if !seen.insert(JSONKey(need.id)).inserted {
                problems.add(.duplicateDependency, at: need.path, node: node.id, "'\(need.id)' is already needed by this node")
            } else if let target = index[JSONKey(need.id)] {
                targets.append(target)
            } else {
                let hint = NearestName.hint(for: need.id, among: nodes.lazy.map(\.id).filter { $0 != node.id })
                problems.add(.unknownDependency, at: need.path, node: node.id, "unknown node '\(need.id)'\(hint)")
            }
        }
        return targets
    }

    /// Node ids that differ only in Unicode normalisation (`café` as NFC and as NFD) are distinct JSON keys, so both
    /// nodes are read; but they look the same to a person and to anything that compares Swift strings, so the file
    /// is refused with a message that says why.
    private static func reportLookalikeIds(_ nodes: [DraftNode], problems: inout FlowProblems) {
        var first: [String: DraftNode] = [:]  // Swift String keys: canonical equivalence, on purpose
        for node in nodes {
            guard let earlier = first[node.id] else {
                first[node.id] = node
                continue
            }
            guard JSONKey(earlier.id) != JSONKey(node.id) else { continue }  // the same id twice: reported elsewhere
            let scalars = { (id: String) in id.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ") }
            problems.add(.duplicateKey, at: node.path, node: node.id,
                         "node id '\(node.id)' (\(scalars(node.id))) differs from node id '\(earlier.id)' at \(earlier.path) "
                             + "(\(scalars(earlier.id))) only in Unicode normalisation; rename one of them")
        }
    }

    // MARK: - Cycles

    /// Reports one cycle per group of nodes that need each other, starting at the group's first node in file order:
    /// `cycle: a -> b -> c -> a`, each arrow reading "needs".
    private func reportCycles(problems: inout FlowProblems) {
        for component in stronglyConnectedComponents() where component.count > 1 {
            let members = Set(component)
            guard let start = component.min(), let cycle = shortestCycle(from: start, within: members) else { continue }
            let text = (cycle + [start]).map { nodes[$0].id }.joined(separator: " -> ")
            problems.add(.cycle, at: nodes[start].path, node: nodes[start].id, "cycle: \(text)")
        }
    }

    /// The nodes of the shortest path `start -> … -> start` inside `members` (without the final `start`).
    private func shortestCycle(from start: Int, within members: Set<Int>) -> [Int]? {
        var previous: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            for next in edges[current] where members.contains(next) {
                if next == start {
                    var path = [current]
                    while let step = previous[path[0]] { path.insert(step, at: 0) }
                    return path
                }
                if previous[next] == nil, next != start {
                    previous[next] = current
                    queue.append(next)
                }
            }
        }
        return nil
    }

    /// Tarjan's algorithm without recursion, so deep chains cannot exhaust the stack.
    private func stronglyConnectedComponents() -> [[Int]] {
        var order = [Int](repeating: -1, count: nodes.count)
        var low = [Int](repeating: 0, count: nodes.count)
        var onStack = [Bool](repeating: false, count: nodes.count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var counter = 0
        for root in nodes.indices where order[root] == -1 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            order[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let next = edges[node][edge]
                    if order[next] == -1 {
                        order[next] = counter; low[next] = counter; counter += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[node] = min(low[node], order[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { low[parent] = min(low[parent], low[node]) }
                if low[node] == order[node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == node { break }
                    }
                    components.append(component)
                }
            }
        }
        return components
    }

    // MARK: - Job ids

    /// Two nodes of one queue cannot share a custom `jobId`: the second would be taken for the first.
    private func reportDuplicateJobIds(problems: inout FlowProblems) {
        var owners: [JSONKey: [JSONKey: String]] = [:]  // queue -> jobId -> node id (Redis compares bytes)
        for node in nodes {
            guard let jobId = node.options.jobId else { continue }
            if let owner = owners[JSONKey(node.queue)]?[JSONKey(jobId)] {
                problems.add(.duplicateJobId, at: node.jobIdPath, node: node.id,
                             "jobId '\(jobId)' is also used by node '\(owner)' in queue '\(node.queue)'")
            } else {
                owners[JSONKey(node.queue), default: [:]][JSONKey(jobId)] = node.id
            }
        }
    }

    // MARK: - Plan

    /// The plan of a graph with no problems: nodes in dependency order (file order among nodes that are free to go
    /// in any order), `dependents` in file order, sinks as roots.
    func plan(flow: String, prefix: String?) -> FlowPlan {
        var dependents = [[Int]](repeating: [], count: nodes.count)
        var waitingFor = [Int](repeating: 0, count: nodes.count)
        for (position, targets) in edges.enumerated() {
            waitingFor[position] = targets.count
            for target in targets { dependents[target].append(position) }
        }
        var ready = MinHeap(nodes.indices.filter { waitingFor[$0] == 0 })
        var ordered: [FlowPlan.Node] = []
        ordered.reserveCapacity(nodes.count)
        while let position = ready.popMin() {
            let node = nodes[position]
            var options = node.options
            options.onFailure = node.onFailure
            ordered.append(FlowPlan.Node(
                id: node.id, name: node.name, queue: node.queue, data: node.data, options: options,
                needs: edges[position].map { nodes[$0].id }, dependents: dependents[position].map { nodes[$0].id },
                onFailure: node.onFailure, command: node.command,
                condition: node.condition, map: node.map))
            for dependent in dependents[position] {
                waitingFor[dependent] -= 1
                if waitingFor[dependent] == 0 { ready.insert(dependent) }
            }
        }
        let roots = nodes.indices.filter { dependents[$0].isEmpty }.map { nodes[$0].id }
        return FlowPlan(flow: flow, prefix: prefix, nodes: ordered, roots: roots)
    }
}

/// A binary min-heap of positions, so the topological order picks the earliest ready node in file order.
private struct MinHeap {
    private var items: [Int] = []

    init(_ values: [Int]) {
        for value in values { insert(value) }
    }

    mutating func insert(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let minimum = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return minimum
    }
}
