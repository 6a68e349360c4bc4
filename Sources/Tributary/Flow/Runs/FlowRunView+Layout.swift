extension FlowRunView {
    /// Sizes used by ``dagLayout(_:)``, in drawing units (pixels for an SVG).
    public struct DAGLayoutOptions: Sendable {
        /// The width of a node's box.
        public var nodeWidth: Double
        /// The height of a node's box.
        public var nodeHeight: Double
        /// The horizontal space between two layers.
        public var layerGap: Double
        /// The vertical space between two boxes of a layer.
        public var rowGap: Double
        /// The space around the drawing.
        public var margin: Double
        /// How many barycenter sweeps (down and up) reorder the layers to reduce crossings.
        public var sweeps: Int

        /// - Parameters:
        ///   - nodeWidth: box width.
        ///   - nodeHeight: box height.
        ///   - layerGap: space between layers.
        ///   - rowGap: space between boxes of a layer.
        ///   - margin: space around the drawing.
        ///   - sweeps: barycenter sweeps (0: keep the first-seen order).
        public init(nodeWidth: Double = 170, nodeHeight: Double = 34, layerGap: Double = 60, rowGap: Double = 12,
                    margin: Double = 16, sweeps: Int = 4) {
            self.nodeWidth = nodeWidth
            self.nodeHeight = nodeHeight
            self.layerGap = layerGap
            self.rowGap = rowGap
            self.margin = margin
            self.sweeps = max(0, sweeps)
        }
    }

    /// A layered drawing of the view: where each node's box goes and which edges join them. Execution reads left
    /// to right: a node is to the right of every node it needs, and the roots (the sinks of a run, the root job of
    /// a tree) are in the rightmost layer.
    public struct DAGLayout: Sendable {
        /// Where one node is drawn.
        public struct Box: Sendable, Equatable {
            /// The node's position in ``FlowRunView/nodes``.
            public let node: Int
            /// Its layer: 0 for the roots, then the longest path (in edges) from a root.
            public let layer: Int
            /// Its place within the layer, from the top.
            public let row: Int
            /// The box's top-left corner.
            public let x, y: Double
        }

        /// An edge from a needed node to the node that needs it (positions in ``FlowRunView/nodes``).
        public struct Edge: Sendable, Equatable {
            /// The needed node (drawn to the left).
            public let from: Int
            /// The node that needs it.
            public let to: Int
        }

        /// One box per node, in the order of ``FlowRunView/nodes``: a node several nodes need is drawn once.
        public let boxes: [Box]
        /// Every edge between nodes of the view, once.
        public let edges: [Edge]
        /// How many layers there are.
        public let layerCount: Int
        /// The size of the whole drawing.
        public let width, height: Double
        /// The options the layout was computed with.
        public let options: DAGLayoutOptions

        /// How many pairs of edges between neighbouring layers cross (edges that span several layers are not
        /// counted): what the barycenter sweeps reduce. Quadratic in the edges of a layer: for tests and small views.
        public var adjacentCrossings: Int {
            var byLayer: [Int: [(Int, Int)]] = [:]
            for edge in edges {
                let from = boxes[edge.from], to = boxes[edge.to]
                guard from.layer == to.layer + 1 else { continue }
                byLayer[to.layer, default: []].append((to.row, from.row))
            }
            var crossings = 0
            for (_, pairs) in byLayer {
                for i in pairs.indices {
                    for j in pairs.indices where j > i {
                        let (a, b) = (pairs[i], pairs[j])
                        if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) { crossings += 1 }
                    }
                }
            }
            return crossings
        }
    }

    /// Lays the view out in layers for a drawing (the dashboard's SVG): each node once, layered by its longest
    /// path from a root, ordered within its layer by barycenter sweeps that pull a node towards the nodes it is
    /// joined to (fewer crossings), then placed on a grid with each layer centred. Time O(sweeps · (V + E) log V);
    /// no recursion.
    public func dagLayout(_ options: DAGLayoutOptions = DAGLayoutOptions()) -> DAGLayout {
        let count = nodes.count
        guard count > 0 else {
            return DAGLayout(boxes: [], edges: [], layerCount: 0, width: 2 * options.margin, height: 2 * options.margin,
                             options: options)
        }
        // Edges between nodes of the view, once each, and each node's dependents.
        var edges: [DAGLayout.Edge] = []
        var dependents = [[Int]](repeating: [], count: count)
        var needs = [[Int]](repeating: [], count: count)
        // A view's needs hold no repeats (see init), so each edge is added once.
        for (node, indices) in needIndices.enumerated() {
            for need in indices where need >= 0 && need != node {
                needs[node].append(need)
                dependents[need].append(node)
                edges.append(DAGLayout.Edge(from: need, to: node))
            }
        }
        // Layers: every node comes after the nodes it needs, so walking backwards settles a node's layer before
        // it is pushed onto its needs. A node nobody needs is a root (layer 0).
        var layer = [Int](repeating: 0, count: count)
        for node in stride(from: count - 1, through: 0, by: -1) {
            for need in needs[node] where layer[need] < layer[node] + 1 { layer[need] = layer[node] + 1 }
        }
        let layerCount = (layer.max() ?? 0) + 1
        // First order: as the nodes come (dependency order), which keeps siblings together.
        var layers = [[Int]](repeating: [], count: layerCount)
        for node in 0..<count { layers[layer[node]].append(node) }
        var position = [Double](repeating: 0, count: count)
        func renumber(_ members: [Int]) {
            for (row, node) in members.enumerated() { position[node] = Double(row) }
        }
        for members in layers { renumber(members) }
        func reorder(_ index: Int, by neighbours: [[Int]]) {
            let keyed = layers[index].map { node -> (node: Int, key: Double) in
                let joined = neighbours[node]
                guard !joined.isEmpty else { return (node, position[node]) }
                return (node, joined.reduce(0) { $0 + position[$1] } / Double(joined.count))
            }
            // A stable sort: equal keys keep their current order.
            layers[index] = keyed.enumerated().sorted {
                $0.element.key != $1.element.key ? $0.element.key < $1.element.key : $0.offset < $1.offset
            }.map(\.element.node)
            renumber(layers[index])
        }
        for _ in 0..<options.sweeps {
            for index in layers.indices.dropFirst() { reorder(index, by: dependents) }
            for index in layers.indices.reversed().dropFirst() { reorder(index, by: needs) }
        }
        // Coordinates: layer 0 (the roots) on the right, each layer centred vertically.
        let tallest = layers.map(\.count).max() ?? 1
        let rowHeight = options.nodeHeight + options.rowGap
        let columnWidth = options.nodeWidth + options.layerGap
        var boxes = [DAGLayout.Box?](repeating: nil, count: count)
        for (index, members) in layers.enumerated() {
            let top = options.margin + Double(tallest - members.count) * rowHeight / 2
            let x = options.margin + Double(layerCount - 1 - index) * columnWidth
            for (row, node) in members.enumerated() {
                boxes[node] = DAGLayout.Box(node: node, layer: index, row: row, x: x, y: top + Double(row) * rowHeight)
            }
        }
        return DAGLayout(boxes: boxes.map { $0! }, edges: edges, layerCount: layerCount,
                         width: 2 * options.margin + Double(layerCount) * columnWidth - options.layerGap,
                         height: 2 * options.margin + Double(tallest) * rowHeight - options.rowGap, options: options)
    }
}
