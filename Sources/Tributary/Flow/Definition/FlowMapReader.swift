/// Reads a node's `map` (docs/flow-file-format.md, "Map nodes"): `{"items", "maxConcurrency", "toleratedFailures"}`.
enum FlowMapReader {
    /// The keys of a `map` object.
    static let keys = ["items", "maxConcurrency", "toleratedFailures"]

    /// Reads `value`, recording problems; `nil` when it has any. `needs` are the node's needs in file order.
    static func read(_ value: JSONValue, at path: FlowPath, node: String, needs: [String],
                     problems: inout FlowProblems) -> FlowMap? {
        let before = problems.list.count
        guard let object = value.objectValue else {
            problems.add(.wrongType, at: path, node: node,
                         "must be an object such as {\"items\": \"list.files\"}, got \(value.kindForMessage)")
            return nil
        }
        for key in object.keys where !keys.contains(key) {
            problems.add(.unknownKey, at: path, node: node, "unknown key '\(key)' in map" + NearestName.hint(for: key, among: keys))
        }
        var items: FlowMap.Items?
        if let value = object["items"] {
            items = self.items(value, at: path.key("items"), node: node, needs: needs, problems: &problems)
        } else {
            problems.add(.missingKey, at: path, node: node,
                         "a map needs \"items\": a needed node's id, optionally with a path into its result (\"list.files\"), or an array")
        }
        var maxConcurrency: Int?
        if let value = object["maxConcurrency"] {
            if let number = value.intValue, number >= 1, number <= Int32.max {
                maxConcurrency = Int(number)
            } else {
                problems.add(value.doubleValue == nil ? .wrongType : .invalidValue, at: path.key("maxConcurrency"), node: node,
                             "must be an integer >= 1 (the most items waiting or active at once), got \(value.quotedForMessage)")
            }
        }
        var tolerated = FlowMap.ToleratedFailures.count(0)
        if let value = object["toleratedFailures"] {
            if let parsed = toleratedFailures(value) {
                tolerated = parsed
            } else {
                problems.add(value.doubleValue == nil && value.stringValue == nil ? .wrongType : .invalidValue,
                             at: path.key("toleratedFailures"), node: node,
                             "must be an integer >= 0 or a percentage such as \"10%\", got \(value.quotedForMessage)")
            }
        }
        guard problems.list.count == before, let items else { return nil }
        return FlowMap(items: items, maxConcurrency: maxConcurrency, toleratedFailures: tolerated)
    }

    /// `"list"`, `"list.files"` (the longest needed node id that the text starts with wins, so ids with dots
    /// work), or an array literal.
    private static func items(_ value: JSONValue, at path: FlowPath, node: String, needs: [String],
                              problems: inout FlowProblems) -> FlowMap.Items? {
        if let literal = value.arrayValue { return .literal(literal) }
        guard let text = value.stringValue else {
            problems.add(.wrongType, at: path, node: node,
                         "must be a needed node's id with an optional path (\"list.files\") or an array, got \(value.kindForMessage)")
            return nil
        }
        let source = needs.filter { text == $0 || text.hasPrefix($0 + ".") }.max { $0.count < $1.count }
        guard let source else {
            let first = String(text.split(separator: ".", maxSplits: 1).first ?? "")
            problems.add(.inputNotNeeded, at: path, node: node,
                         "map items come from '\(first)', which node '\(node)' does not need: add it to \"needs\""
                         + NearestName.hint(for: first, among: needs))
            return nil
        }
        let rest = text.dropFirst(source.count).drop { $0 == "." }
        return .input(node: source, path: FlowValuePath.components(String(rest)))
    }

    private static func toleratedFailures(_ value: JSONValue) -> FlowMap.ToleratedFailures? {
        if let count = value.intValue, count >= 0, count <= Int32.max { return .count(Int(count)) }
        guard let text = value.stringValue, text.hasSuffix("%"), let percent = Double(text.dropLast()),
              percent >= 0, percent <= 100, !text.hasPrefix("+") else { return nil }
        return .percent(percent)
    }
}
