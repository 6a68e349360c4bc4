/// Reads `encrypt` (dotted paths of fields to store encrypted) and `encryptResult` in the native flow file format,
/// at the top level (every node) and on a node.
///
/// A node's own paths must be in its data when the flow is submitted (``FlowProducer`` refuses it otherwise); a
/// top-level path applies to every node whose data has it, after `--data` is merged in.
enum FlowEncryptionReader {
    /// The top-level values.
    struct TopLevel {
        var paths: [String] = []
        var result = false
    }

    /// Reads the top-level `encrypt` and `encryptResult`.
    static func topLevel(_ document: JSONObject, problems: inout FlowProblems) -> TopLevel {
        var top = TopLevel()
        if let value = document["encrypt"] {
            top.paths = paths(value, at: FlowPath.root.key("encrypt"), node: nil, problems: &problems)
        }
        if let value = document["encryptResult"] {
            top.result = flag(value, at: FlowPath.root.key("encryptResult"), node: nil, problems: &problems) ?? false
        }
        return top
    }

    /// Sets the node's ``JobOptions/encrypt`` (its own paths, then the top-level paths its data has) and
    /// ``JobOptions/encryptResult`` (its own value, else the top level's).
    static func apply(to node: inout DraftNode, _ object: JSONObject, topLevel: TopLevel, problems: inout FlowProblems) {
        let path = node.path
        var own: [String] = []
        if let value = object["encrypt"] {
            own = paths(value, at: path.key("encrypt"), node: node.id, problems: &problems)
        }
        var all = own
        for shared in topLevel.paths where node.data.value(atFieldPath: shared) != nil {
            if own.contains(shared) { continue }
            if let inner = own.first(where: { EncryptedFieldPaths.overlap($0, shared) }) {
                problems.add(.conflictingOptions, at: path.key("encrypt"), node: node.id,
                             "'\(inner)' overlaps the top-level encrypt path '\(shared)': encrypting the outer one covers "
                                 + "the inner one; keep one")
                continue
            }
            all.append(shared)
        }
        node.options.encrypt = all
        node.options.encryptResult = topLevel.result
        if let value = object["encryptResult"],
           let flag = flag(value, at: path.key("encryptResult"), node: node.id, problems: &problems) {
            node.options.encryptResult = flag
        }
    }

    /// An array of well-formed, distinct, non-overlapping dotted paths; wrong entries are reported and left out.
    private static func paths(_ value: JSONValue, at path: FlowPath, node: String?, problems: inout FlowProblems) -> [String] {
        guard let elements = value.arrayValue else {
            problems.add(.wrongType, at: path, node: node,
                         "must be an array of field paths such as [\"password\", \"card.number\"], got \(value.kindForMessage)")
            return []
        }
        var paths: [String] = []
        for (index, element) in elements.enumerated() {
            guard let text = element.stringValue else {
                problems.add(.wrongType, at: path.index(index), node: node,
                             "must be a field path (a string such as \"card.number\"), got \(element.kindForMessage)")
                continue
            }
            if let problem = EncryptedFieldPaths.problem(with: text) {
                problems.add(.invalidValue, at: path.index(index), node: node, problem)
            } else if let other = paths.first(where: { EncryptedFieldPaths.overlap($0, text) }) {
                problems.add(.invalidValue, at: path.index(index), node: node, other == text ? "'\(text)' is given twice"
                    : "'\(other)' and '\(text)' overlap: encrypting the outer one covers the inner one; keep one")
            } else {
                paths.append(text)
            }
        }
        return paths
    }

    private static func flag(_ value: JSONValue, at path: FlowPath, node: String?, problems: inout FlowProblems) -> Bool? {
        if let flag = value.boolValue { return flag }
        problems.add(.wrongType, at: path, node: node, "must be true or false, got \(value.quotedForMessage)")
        return nil
    }
}
