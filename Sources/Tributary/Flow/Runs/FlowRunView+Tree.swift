extension FlowRunView {
    /// How ``treeLayout(_:)`` lays a view out.
    public struct TreeOptions: Sendable {
        /// Siblings with the same name and state become one ``TreeLine/Content/group(_:)`` line when there are at
        /// least this many of them; `nil` draws every node on a line of its own.
        public var summariseAt: Int?
        /// The deepest level drawn in place. A node or group that would be drawn deeper gets a
        /// ``TreeLine/Content/continued(_:)`` line there and is drawn as a tree of its own after the current one,
        /// so lines stay short however long a chain is.
        public var maxDepth: Int

        /// - Parameters:
        ///   - summariseAt: the smallest group of same-named siblings drawn as one line (`nil`: never).
        ///   - maxDepth: the deepest level drawn in place (at least 1).
        public init(summariseAt: Int? = 20, maxDepth: Int = 32) {
            self.summariseAt = summariseAt.map { max(2, $0) }
            self.maxDepth = max(1, maxDepth)
        }
    }

    /// One line of a tree drawing.
    public struct TreeLine: Sendable {
        /// What a line shows. Node positions index ``FlowRunView/nodes``.
        public enum Content: Sendable, Equatable {
            /// A node drawn in full; the nodes it needs follow on the lines below, one level deeper.
            case node(Int)
            /// A node drawn in full elsewhere: above, or `below` (it continues as a tree of its own further down).
            case shared(Int, below: Bool)
            /// A needed node that is not in the view.
            case missing(String)
            /// Siblings with the same name and state, drawn as one line; the nodes they need follow.
            case group([Int])
            /// A group of siblings all drawn elsewhere.
            case sharedGroup([Int])
            /// A node (one member) or a group too deep to draw here: it is drawn further down as a tree of its own,
            /// whose first line has ``TreeLine/isContinuation`` set.
            case continued([Int])
        }

        /// What the line shows.
        public let content: Content
        /// 0 for a tree's first line, 1 for the nodes it needs, …
        public let depth: Int
        /// Whether this is the last of its siblings.
        public let isLast: Bool
        /// For each level from 1 to `depth - 1`: whether siblings of that level's line are still to come (where a
        /// text drawing puts `│`).
        public let guides: [Bool]
        /// Whether this line starts a tree that continues one drawn above (see ``Content/continued(_:)``).
        public let isContinuation: Bool
    }

    /// A node, a group of siblings, or a missing need, waiting to be drawn.
    private enum Item {
        case node(Int)
        case group([Int])
        case missing(String)
    }

    private struct Frame {
        let item: Item
        let depth: Int
        let isLast: Bool
        let guides: [Bool]
        let isContinuation: Bool
    }

    /// The lines of a tree drawing: from the roots down to the nodes they need, depth first, each node drawn in full
    /// once (later places refer to it), large same-named sibling groups summarised, and deep levels continued as
    /// trees of their own. Linear in nodes plus edges; no recursion.
    public func treeLayout(_ options: TreeOptions = TreeOptions()) -> [TreeLine] {
        // 0: not drawn yet; 1: drawn; 2: waiting to be drawn as a continued tree.
        var drawn = [UInt8](repeating: 0, count: nodes.count)
        var stamp = [Int](repeating: -1, count: nodes.count)
        var lines: [TreeLine] = []
        lines.reserveCapacity(nodes.count + 1)
        var stack: [Frame] = []
        var continued: [Frame] = []
        var nextContinued = 0

        func push(_ children: [Int], depth: Int, guides: [Bool]) {
            let items = self.items(children, summariseAt: options.summariseAt)
            for (position, item) in items.enumerated().reversed() {
                stack.append(Frame(item: item, depth: depth, isLast: position == items.count - 1, guides: guides,
                                   isContinuation: false))
            }
        }
        func childGuides(_ frame: Frame) -> [Bool] { frame.depth == 0 ? [] : frame.guides + [!frame.isLast] }
        func emit(_ content: TreeLine.Content, _ frame: Frame) {
            lines.append(TreeLine(content: content, depth: frame.depth, isLast: frame.isLast, guides: frame.guides,
                                  isContinuation: frame.isContinuation))
        }
        func drawable(_ member: Int, _ frame: Frame) -> Bool {
            drawn[member] == 0 || (drawn[member] == 2 && frame.isContinuation)
        }

        // Roots that are not in the view are drawn last, as missing.
        for key in roots.reversed() where index[key] == nil {
            stack.append(Frame(item: .missing(key), depth: 0, isLast: true, guides: [], isContinuation: false))
        }
        push(roots.compactMap { index[$0] }, depth: 0, guides: [])
        while true {
            guard let frame = stack.popLast() else {
                guard nextContinued < continued.count else { break }
                stack.append(continued[nextContinued])
                nextContinued += 1
                continue
            }
            switch frame.item {
            case .missing(let key):
                emit(.missing(key), frame)
            case .node(let node):
                guard drawable(node, frame) else {
                    emit(.shared(node, below: drawn[node] == 2), frame)
                    continue
                }
                if frame.depth > options.maxDepth {
                    drawn[node] = 2
                    emit(.continued([node]), frame)
                    continued.append(Frame(item: frame.item, depth: 0, isLast: true, guides: [], isContinuation: true))
                    continue
                }
                drawn[node] = 1
                emit(.node(node), frame)
                push(needIndices[node], depth: frame.depth + 1, guides: childGuides(frame))
            case .group(let members):
                let fresh = members.filter { drawable($0, frame) }
                guard !fresh.isEmpty else {
                    emit(.sharedGroup(members), frame)
                    continue
                }
                if frame.depth > options.maxDepth {
                    for member in fresh { drawn[member] = 2 }
                    emit(.continued(members), frame)
                    continued.append(Frame(item: .group(fresh), depth: 0, isLast: true, guides: [], isContinuation: true))
                    continue
                }
                for member in fresh { drawn[member] = 1 }
                emit(.group(members), frame)
                // The nodes any fresh member needs, each once, in first-seen order.
                var union: [Int] = []
                var missing: Set<Int> = []
                let serial = lines.count
                for member in fresh {
                    for need in needIndices[member] {
                        if need >= 0 {
                            if stamp[need] != serial { stamp[need] = serial; union.append(need) }
                        } else if missing.insert(need).inserted {
                            union.append(need)
                        }
                    }
                }
                push(union, depth: frame.depth + 1, guides: childGuides(frame))
            }
        }
        return lines
    }

    /// Children as items: missing needs (negative positions) as `.missing`, and with `summariseAt`, siblings sharing
    /// a name and state (skipped nodes apart from completed ones) in groups of at least that many as one `.group` at the place of the first of them.
    private func items(_ children: [Int], summariseAt: Int?) -> [Item] {
        func single(_ child: Int) -> Item {
            child >= 0 ? .node(child) : .missing(missingKeys[-child - 1])
        }
        guard let summariseAt, children.count >= summariseAt else { return children.map(single) }
        struct Kind: Hashable {
            let name: String
            let state: JobState
            let skipped: Bool
        }
        func kind(_ node: Node) -> Kind { Kind(name: node.name, state: node.state, skipped: node.isSkipped) }
        var members: [Kind: [Int]] = [:]
        for child in children where child >= 0 {
            members[kind(nodes[child]), default: []].append(child)
        }
        var items: [Item] = []
        for child in children {
            guard child >= 0 else { items.append(single(child)); continue }
            let kind = kind(nodes[child])
            guard let group = members[kind], group.count >= summariseAt else { items.append(.node(child)); continue }
            if group[0] == child { items.append(.group(group)) }
        }
        return items
    }
}
