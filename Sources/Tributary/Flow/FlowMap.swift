/// A map node (`"map"` in a flow file): once its inputs are complete, the node's job expands into one job per item
/// of a list, each running the node's handler or command with ``Job/mapItem`` and ``Job/mapIndex``. The node
/// finishes when every item has; its result is the array of the items' results, in item order.
///
/// ```json
/// "convert": {"needs": "list", "map": {"items": "list.files", "maxConcurrency": 8, "toleratedFailures": "10%"},
///             "run": ["./convert.sh"]}
/// ```
public struct FlowMap: Sendable, Equatable {
    /// Where the list comes from.
    public enum Items: Sendable, Equatable {
        /// The result of a needed node, followed along a dotted path (empty: the result itself).
        case input(node: String, path: [String])
        /// A list written in the flow file.
        case literal([JSONValue])
    }

    /// How many items may fail without failing the map node.
    public enum ToleratedFailures: Sendable, Equatable {
        /// At most this many.
        case count(Int)
        /// At most this percentage of the items (0...100), rounded down.
        case percent(Double)
    }

    /// Where the list comes from.
    public let items: Items
    /// At most this many items waiting or active at once (`nil`: no limit); the rest are held.
    public let maxConcurrency: Int?
    /// Failed items that do not fail the map node; they reach dependents as input failures with index and reason.
    public let toleratedFailures: ToleratedFailures

    /// Creates a map.
    public init(items: Items, maxConcurrency: Int? = nil, toleratedFailures: ToleratedFailures = .count(0)) {
        self.items = items
        self.maxConcurrency = maxConcurrency
        self.toleratedFailures = toleratedFailures
    }

    /// The most failed items a map of `total` items tolerates.
    public func toleratedCount(of total: Int) -> Int {
        switch toleratedFailures {
        case .count(let count): return count
        case .percent(let percent): return Int((Double(total) * percent / 100).rounded(.down))
        }
    }

    /// `items` as written: `list.files`, or the literal list.
    public var itemsDescription: String {
        switch items {
        case .input(let node, let path): return ([node] + path).joined(separator: ".")
        case .literal: return "the literal list"
        }
    }

    /// The map as stored on the node's job (field `flowMap`).
    var json: JSONValue {
        var object: JSONObject = [:]
        switch items {
        case .input(let node, let path):
            object["input"] = .string(node)
            object["path"] = .array(path.map { .string($0) })
        case .literal(let values):
            object["items"] = .array(values)
        }
        if let maxConcurrency { object["maxConcurrency"] = .int(Int64(maxConcurrency)) }
        switch toleratedFailures {
        case .count(let count): object["toleratedFailures"] = .int(Int64(count))
        case .percent(let percent): object["toleratedPercent"] = .double(percent)
        }
        return .object(object)
    }

    /// A map as stored on a job, or `nil` when the text is not one.
    init?(stored text: String) {
        guard let json = try? JSONValue.parse(text) else { return nil }
        if let literal = json["items"]?.arrayValue {
            items = .literal(literal)
        } else if let node = json["input"]?.stringValue {
            items = .input(node: node, path: json["path"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        } else {
            return nil
        }
        maxConcurrency = json["maxConcurrency"]?.intValue.map { Int($0) }
        if let percent = json["toleratedPercent"]?.doubleValue {
            toleratedFailures = .percent(percent)
        } else {
            toleratedFailures = .count(Int(json["toleratedFailures"]?.intValue ?? 0))
        }
    }
}
