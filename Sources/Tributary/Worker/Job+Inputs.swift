extension Job {
    /// Decodes the result of the needed node `node` (see ``inputs``) into a `Decodable` type.
    ///
    /// ```swift
    /// struct Listing: Decodable { let files: [String] }
    /// let listing = try job.input("list", as: Listing.self)
    /// ```
    ///
    /// - Throws: ``QueueError`` `jobNotInState` when the node has no result (not needed, skipped, or failed:
    ///   see ``skippedInputs`` and ``inputFailures``); `DecodingError` naming the path that does not fit.
    public func input<T: Decodable>(_ node: String, as type: T.Type = T.self) throws -> T {
        guard let value = inputs[node] else {
            let why = skippedInputs.contains(node) ? "it was skipped"
                : inputFailures[node].map { "it failed: \($0)" } ?? "it is not one of the nodes this job needs"
            throw QueueError(.jobNotInState, "job \(id) has no input '\(node)': \(why)")
        }
        return try JSONValueDecoder().decode(type, from: value)
    }

    /// For an item of a map node, the item it works on (`nil` for other jobs).
    public var mapItem: JSONValue? {
        fields["mapItem"].map { (try? JSONValue.parse($0)) ?? .string($0) }
    }

    /// For an item of a map node, its position in the list (0-based; `nil` for other jobs).
    public var mapIndex: Int? {
        fields["mapIndex"].flatMap { Int($0) }
    }

    /// Decodes the map item (``mapItem``) into a `Decodable` type.
    ///
    /// - Throws: ``QueueError`` `jobNotInState` when the job is not a map item; `DecodingError` when it does not fit.
    public func mapItem<T: Decodable>(as type: T.Type = T.self) throws -> T {
        guard let item = mapItem else {
            throw QueueError(.jobNotInState, "job \(id) is not an item of a map node (it has no mapItem field)")
        }
        return try JSONValueDecoder().decode(type, from: item)
    }
}
