import Tributary

/// Draws a ``FlowRunView`` as SVG from the layout the library computes (``FlowRunView/dagLayout(_:)``): a box per
/// node coloured by state and linked to its job page, a curve per edge, map nodes with their item counts.
enum DAGDrawing {
    /// Fill colours by state word.
    static let colours: [String: String] = [
        "completed": "#a5d6a7", "failed": "#ef9a9a", "active": "#90caf9", "waiting": "#d7ccc8",
        "prioritized": "#bcaaa4", "delayed": "#ffcc80", "waiting-children": "#ce93d8", "gone": "#e0e0e0",
    ]

    /// The SVG element, with `data-status` carrying the run's status for the live-update script.
    static func svg(_ view: FlowRunView, jobLink: (FlowRunView.Node) -> String) -> String {
        let layout = view.dagLayout()
        let options = layout.options
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(layout.width))" height="\#(Int(layout.height))" viewBox="0 0 \#(Int(layout.width)) \#(Int(layout.height))" role="img" aria-label="DAG of \#(HTML.escape(view.title))">"#
        svg.reserveCapacity(view.nodes.count * 400)
        svg += "<g class=\"edges\">"
        for edge in layout.edges {
            let from = layout.boxes[edge.from], to = layout.boxes[edge.to]
            let x1 = from.x + options.nodeWidth, y1 = from.y + options.nodeHeight / 2
            let x2 = to.x, y2 = to.y + options.nodeHeight / 2
            let bend = (x2 - x1) / 2
            svg += #"<path class="edge" data-from="\#(HTML.escape(view.nodes[edge.from].key))" data-to="\#(HTML.escape(view.nodes[edge.to].key))" d="M\#(format(x1)) \#(format(y1)) C\#(format(x1 + bend)) \#(format(y1)) \#(format(x2 - bend)) \#(format(y2)) \#(format(x2)) \#(format(y2))"/>"#
        }
        svg += "</g><g class=\"nodes\">"
        for box in layout.boxes {
            let node = view.nodes[box.node]
            let word = FlowRunView.word(for: node.state)
            var label = node.key
            if view.runId == nil { label = "\(node.name) #\(node.jobId)" }
            if node.isSkipped { label += " (skipped)" }
            var detail = word
            if let map = node.map {
                detail = "map \(map.completed)/\(map.total) done" + (map.failed > 0 ? ", \(map.failed) failed" : "")
            }
            svg += #"<a class="node" href="\#(HTML.escape(jobLink(node)))" data-node="\#(HTML.escape(node.key))" data-state="\#(word)"><title>\#(HTML.escape(node.label)) — \#(word)</title>"#
            svg += #"<rect x="\#(format(box.x))" y="\#(format(box.y))" width="\#(format(options.nodeWidth))" height="\#(format(options.nodeHeight))" rx="4" fill="\#(colour(word))"/>"#
            svg += #"<text x="\#(format(box.x + 6))" y="\#(format(box.y + 14))">\#(HTML.escape(clipped(label, 24)))</text>"#
            svg += #"<text x="\#(format(box.x + 6))" y="\#(format(box.y + 28))" class="detail">\#(HTML.escape(clipped(detail, 26)))</text></a>"#
        }
        svg += "</g></svg>"
        return svg
    }

    static func colour(_ word: String) -> String { colours[word] ?? "#eeeeee" }

    static func clipped(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(Double(Int(value * 10)) / 10)
    }
}
