extension JobOptions {
    /// Deduplication (BullMQ's `deduplication` option, stored in `opts` as `de`): while a job holds a deduplication
    /// id, adding another job with the same id stores nothing and returns the job that holds it.
    ///
    /// The id is kept in `<prefix>:<queue>:de:<id>` (a string holding the owner's job id), the owner's hash has the
    /// field `deid`, and every skipped add writes a `deduplicated` event (`jobId` = the owner, `deduplicationId`,
    /// `deduplicatedJobId` = the id the skipped job would have had), exactly as BullMQ does, so Tributary and BullMQ
    /// producers (Node, Python) dedupe each other's adds.
    ///
    /// - Without ``ttl`` the id is held until the owner finishes (completes, or fails for good) or is removed.
    /// - With ``ttl`` it is held for that long from the owner's add, whatever happens to the owner.
    /// - ``extend`` (with a ttl): each skipped add restarts the owner's ttl.
    /// - ``replace``: an owner still in the delayed set is removed and the new job takes its place (and the id);
    ///   an owner that is already waiting or running is kept, and the add is skipped.
    /// - ``keepLastIfActive``: an add skipped while the owner is running is not dropped but kept as the owner's
    ///   next job (HASH `<prefix>:<queue>:dn:<id>`); a later skipped add replaces it, so at most one waits. When
    ///   the owner finishes (completes or fails for good), the kept job is added, with the id the skipped add
    ///   would have had, and holds the id in turn. Under this option the id is held without expiry whatever ``ttl``
    ///   says (as in BullMQ), so that every add meets a running owner; stale ids (an owner lost in an outage) are
    ///   reclaimed by the next add, and the job kept for the lost owner is dropped.
    public struct Deduplication: Sendable, Hashable {
        /// The deduplication id: adds with the same id in the same queue are one job.
        public var id: String
        /// How long the id is held; until the owner finishes when `nil`.
        public var ttl: Duration?
        /// Restart the ttl on every skipped add.
        public var extend: Bool
        /// Replace an owner that is still delayed.
        public var replace: Bool
        /// Keep the last add skipped while the owner runs, and add it when the owner finishes (BullMQ's
        /// `keepLastIfActive`).
        public var keepLastIfActive: Bool

        /// Creates a deduplication option.
        ///
        /// - Parameters:
        ///   - id: the deduplication id.
        ///   - ttl: how long the id is held; until the owner finishes when `nil`.
        ///   - extend: restart the ttl on every skipped add (needs a ttl).
        ///   - replace: replace an owner that is still delayed.
        ///   - keepLastIfActive: keep the last add skipped while the owner runs and add it when the owner finishes.
        public init(id: String, ttl: Duration? = nil, extend: Bool = false, replace: Bool = false,
                    keepLastIfActive: Bool = false) {
            self.id = id
            self.ttl = ttl
            self.extend = extend
            self.replace = replace
            self.keepLastIfActive = keepLastIfActive
        }

        /// Checks the option.
        ///
        /// - Throws: ``QueueError`` `invalidOption` for an empty id or a ttl that is not a positive whole number
        ///   of milliseconds.
        public func validate() throws {
            if id.isEmpty { throw QueueError(.invalidOption, "deduplication.id must not be empty") }
            if let ttl, ttl.milliseconds < 1 {
                throw QueueError(.invalidOption, "deduplication.ttl must be at least 1 ms (got \(ttl))")
            }
            if extend && ttl == nil {
                throw QueueError(.invalidOption, "deduplication.extend needs a ttl: without one the id is held until the job finishes")
            }
        }

        /// The `de` object of the stored `opts`, with BullMQ's names (ttl in ms).
        var storedJSON: JSONValue {
            var object: JSONObject = ["id": .string(id)]
            if let ttl { object["ttl"] = .int(ttl.milliseconds) }
            if extend { object["extend"] = true }
            if replace { object["replace"] = true }
            if keepLastIfActive { object["keepLastIfActive"] = true }
            return .object(object)
        }

        /// Reads a stored `de` object (BullMQ's or Tributary's); `nil` without a string id.
        init?(stored json: JSONValue) {
            guard let id = json["id"]?.stringValue else { return nil }
            self.id = id
            ttl = json["ttl"]?.intValue.flatMap { $0 > 0 ? .milliseconds($0) : nil }
            extend = json["extend"]?.boolValue ?? false
            replace = json["replace"]?.boolValue ?? false
            keepLastIfActive = json["keepLastIfActive"]?.boolValue ?? false
        }
    }
}

extension Queue {
    /// The key holding a deduplication id's owner: `<prefix>:<queue>:de:<id>`.
    public func deduplicationKey(_ id: String) -> String { keys.jobKeyPrefix + "de:" + id }

    /// The id of the job that holds this deduplication id, or `nil` when no job holds it (BullMQ's
    /// `getDeduplicationJobId`).
    public func getDeduplicationJobId(_ id: String) async throws -> String? {
        try await client.send(RedisCommand("GET", .string(deduplicationKey(id)))).string
    }

    /// Frees a deduplication id at once, whichever job holds it, so that the next add with this id is stored
    /// (BullMQ's `removeDeduplicationKey`). The job that held it is not changed.
    ///
    /// - Returns: whether the id was held.
    @discardableResult
    public func removeDeduplicationKey(_ id: String) async throws -> Bool {
        try await client.send(RedisCommand("DEL", .string(deduplicationKey(id)))).int == 1
    }
}
