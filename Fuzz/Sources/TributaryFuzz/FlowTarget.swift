import Tributary

extension FuzzTarget {
    /// Flow file text → ``FlowPlan``, through the compiler `tributary run` and `tributary flow check` use.
    ///
    /// Compiling must give the same outcome twice. A rejected file must come with at least one problem, each with a
    /// message, syntax problems with a position. An accepted file must give a consistent plan: unique, non-empty node
    /// ids without ':', every need naming a node placed earlier, `dependents` mirroring `needs`, `roots` being
    /// exactly the nodes nothing needs, and `node(_:)` finding every node.
    static let flow = FuzzTarget(
        name: "flow",
        summary: "flow file text -> FlowCompiler -> FlowPlan: deterministic, problems explained, plan consistent"
    ) { input in
        let text = String(decoding: input, as: UTF8.self)
        let outcome = Result { () throws(FlowFileError) in try FlowCompiler.compile(text, source: "fuzz.json") }
        let again = Result { () throws(FlowFileError) in try FlowCompiler.compile(text, source: "fuzz.json") }
        guard outcome == again else {
            violated("compiling the same text twice gave different outcomes: \(printable(input))")
        }
        switch outcome {
        case .failure(let error):
            guard !error.problems.isEmpty else { violated("a FlowFileError without problems for \(printable(input))") }
            for problem in error.problems {
                guard !problem.message.isEmpty else { violated("a problem without a message: \(problem.code)") }
                if let line = problem.line {
                    guard line >= 1, (problem.column ?? -1) >= 0 else {
                        violated("a syntax problem at line \(line), column \(problem.column.map(String.init) ?? "nil")")
                    }
                }
            }
        case .success(let plan):
            checkPlan(plan, input: input)
        }
    }
}

/// The consistency a ``FlowPlan`` promises.
private func checkPlan(_ plan: FlowPlan, input: UnsafeRawBufferPointer) {
    var placed: Set<[UInt8]> = []
    var neededBy: [[UInt8]: [String]] = [:]
    for node in plan.nodes {
        let id = Array(node.id.utf8)
        guard !node.id.isEmpty, !node.id.contains(":"), placed.insert(id).inserted else {
            violated("node id '\(node.id)' is empty, has ':' or is repeated; input \(printable(input))")
        }
        for need in node.needs {
            guard placed.contains(Array(need.utf8)) else {
                violated("node '\(node.id)' needs '\(need)', which is not placed before it; input \(printable(input))")
            }
            neededBy[Array(need.utf8), default: []].append(node.id)
        }
        guard plan.node(node.id)?.id == node.id else {
            violated("plan.node('\(node.id)') does not find it; input \(printable(input))")
        }
    }
    for node in plan.nodes {
        let expected = (neededBy[Array(node.id.utf8)] ?? []).map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        let actual = node.dependents.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        guard expected == actual else {
            violated("dependents of '\(node.id)' are \(node.dependents), its needers \(neededBy[Array(node.id.utf8)] ?? []); input \(printable(input))")
        }
    }
    let sinks = Set(plan.nodes.filter(\.dependents.isEmpty).map { Array($0.id.utf8) })
    guard Set(plan.roots.map { Array($0.utf8) }) == sinks, plan.roots.count == sinks.count else {
        violated("roots \(plan.roots) are not the nodes nothing needs; input \(printable(input))")
    }
}
