extension RedisCommand {
    /// The hash slot every key of this command hashes to; `nil` when it has no key.
    ///
    /// - Throws: ``RedisClientError`` `crossSlot` when its keys hash to different slots (Redis Cluster would refuse
    ///   it with CROSSSLOT), naming the keys and their slots.
    public func hashSlot() throws -> Int? {
        if name == "SCAN" { return scanSlot }
        return try RedisClusterClient.commonSlot(of: [self], what: name)
    }

    /// For `SCAN … MATCH pattern`: the slot of every key the pattern can match, when its literal beginning holds a
    /// complete hash tag (`{tributary}:orders:*`), so the scan needs only the node that owns it.
    var scanSlot: Int? {
        guard let match = arguments.firstIndex(where: { $0.upperText == "MATCH" }), arguments.indices.contains(match + 1) else {
            return nil
        }
        let pattern = arguments[match + 1].text
        let literal = pattern.prefix { !"*?[\\".contains($0) }
        return HashSlot.fixedSlot(forKeysStartingWith: String(literal))
    }
}
