/// One failed item of a map node whose failures were tolerated (`toleratedFailures`): what dependents see in
/// ``Job/itemFailures`` (and command steps in `inputFailures`, as `[{"index", "reason"}]`).
public struct MapItemFailure: Sendable, Equatable, Codable {
    /// The item's position in the list (0-based).
    public let index: Int
    /// Why the item's job failed.
    public let reason: String

    /// Creates a failure record.
    public init(index: Int, reason: String) {
        self.index = index
        self.reason = reason
    }

    var json: JSONValue { ["index": .int(Int64(index)), "reason": .string(reason)] }

    /// The failures as stored in the run record (`mapFailures:<node>`), or `nil` when the text is not a list of them.
    static func list(stored text: String) -> [MapItemFailure]? {
        guard let items = (try? JSONValue.parse(text))?.arrayValue else { return nil }
        return items.compactMap { item in
            guard let index = item["index"]?.intValue, let reason = item["reason"]?.stringValue else { return nil }
            return MapItemFailure(index: Int(index), reason: reason)
        }
    }

    /// One line for ``Job/inputFailures``: `2 of 37 items failed (tolerated): [3] reason; [9] reason`.
    static func summary(_ failures: [MapItemFailure], of total: Int?) -> String {
        let of = total.map { " of \($0)" } ?? ""
        return "\(failures.count)\(of) items failed (tolerated): \(listed(failures))"
    }

    /// The first few failures, `[3] reason; [9] reason; …`.
    static func listed(_ failures: [MapItemFailure]) -> String {
        failures.prefix(5).map { "[\($0.index)] \($0.reason)" }.joined(separator: "; ") + (failures.count > 5 ? "; …" : "")
    }
}
