/// A flow job's children, sorted by what became of them, as BullMQ stores them under the job's key:
///
/// | Kind | Key | Type |
/// |---|---|---|
/// | processed | `<job>:processed` | HASH child key → return value (JSON) |
/// | unprocessed | `<job>:dependencies` | SET of pending child keys |
/// | ignored | `<job>:failed` | HASH child key → failure reason (`ignoreDependencyOnFailure`, `continueParentOnFailure`) |
/// | failed | `<job>:unsuccessful` | ZSET of child keys (`failParentOnFailure`) |
///
/// Child keys are job keys, `<prefix>:<queue>:<id>`. Read with ``Job/dependencies(_:client:)``.
public struct JobDependencies: Sendable, Equatable {
    /// Completed children: child key → return value (a value that is not JSON is kept as a string).
    public var processed: [String: JSONValue]
    /// Children still pending.
    public var unprocessed: [String]
    /// Children whose final failure was ignored: child key → failure reason.
    public var ignored: [String: String]
    /// Children whose final failure fails this job.
    public var failed: [String]
    /// What to ask for to read on, when pages were asked for: only the kinds with more to read, each from its next
    /// cursor; `nil` when everything asked for has been read.
    public var nextPages: DependencyPages?

    /// Creates a value (for tests and mocks; ``Job/dependencies(_:client:)`` reads real ones).
    public init(processed: [String: JSONValue] = [:], unprocessed: [String] = [], ignored: [String: String] = [:],
                failed: [String] = [], nextPages: DependencyPages? = nil) {
        self.processed = processed
        self.unprocessed = unprocessed
        self.ignored = ignored
        self.failed = failed
        self.nextPages = nextPages
    }

    /// Every child key, in BullMQ's order: processed, unprocessed, failed, ignored (failed ones in the order they
    /// failed, the other kinds sorted by key, so the order is stable).
    public var allChildKeys: [String] {
        processed.keys.sorted() + unprocessed.sorted() + failed + ignored.keys.sorted()
    }
}

/// One page of one kind of children: where to start and about how many to read.
///
/// Processed, unprocessed and ignored children are read with HSCAN/SSCAN (`cursor` is Redis's scan cursor,
/// `count` its COUNT hint: Redis may return more, notably all of a small hash or set at once, and an entry may
/// show up twice across pages if the collection changes meanwhile). Failed children are read with ZRANGE
/// (`cursor` is an offset and exactly `count` are returned).
public struct DependencyPage: Sendable, Equatable {
    /// Where to start: 0 for the first page, then the cursor a previous read returned.
    public var cursor: Int
    /// How many to read (a hint for the scanned kinds); at least 1.
    public var count: Int

    /// A page starting at `cursor`.
    public init(cursor: Int = 0, count: Int = 10) {
        self.cursor = cursor
        self.count = count
    }
}

/// Which kinds of children to read, one page each (BullMQ's `getDependencies` options); a kind left `nil` is not
/// read. With no kind set, everything is read, unpaginated.
public struct DependencyPages: Sendable, Equatable {
    /// The page of completed children (HSCAN of `:processed`).
    public var processed: DependencyPage?
    /// The page of pending children (SSCAN of `:dependencies`).
    public var unprocessed: DependencyPage?
    /// The page of ignored failures (HSCAN of `:failed`).
    public var ignored: DependencyPage?
    /// The page of failures that fail the job (ZRANGE of `:unsuccessful`, oldest failure first).
    public var failed: DependencyPage?

    /// Pages of the given kinds.
    public init(processed: DependencyPage? = nil, unprocessed: DependencyPage? = nil, ignored: DependencyPage? = nil,
                failed: DependencyPage? = nil) {
        self.processed = processed
        self.unprocessed = unprocessed
        self.ignored = ignored
        self.failed = failed
    }

    /// The first page of every kind, `count` each.
    public static func first(_ count: Int) -> DependencyPages {
        let page = DependencyPage(cursor: 0, count: count)
        return DependencyPages(processed: page, unprocessed: page, ignored: page, failed: page)
    }

    var isEmpty: Bool { processed == nil && unprocessed == nil && ignored == nil && failed == nil }

    func validate() throws {
        for (kind, page) in [("processed", processed), ("unprocessed", unprocessed), ("ignored", ignored), ("failed", failed)] {
            guard let page else { continue }
            guard page.cursor >= 0, page.count >= 1 else {
                throw QueueError(.invalidOption,
                                 "dependencies page for \(kind): cursor must be ≥ 0 and count ≥ 1 (got cursor \(page.cursor), count \(page.count))")
            }
        }
    }
}

/// How many children a flow job has of each kind (BullMQ's `getDependenciesCount`).
public struct DependencyCounts: Sendable, Hashable {
    /// Completed children (`:processed`).
    public var processed: Int
    /// Pending children (`:dependencies`).
    public var unprocessed: Int
    /// Children whose failure was ignored (`:failed`).
    public var ignored: Int
    /// Children whose failure fails this job (`:unsuccessful`).
    public var failed: Int

    /// Creates counts.
    public init(processed: Int = 0, unprocessed: Int = 0, ignored: Int = 0, failed: Int = 0) {
        self.processed = processed
        self.unprocessed = unprocessed
        self.ignored = ignored
        self.failed = failed
    }

    /// All children of every kind.
    public var total: Int { processed + unprocessed + ignored + failed }
}

/// The commands reading a job's children and the decoding of their replies, shared by ``Job`` and ``FlowProducer``.
enum ChildrenReader {
    static func keys(of jobKey: String) -> (processed: String, unprocessed: String, ignored: String, failed: String) {
        (jobKey + ":processed", jobKey + ":dependencies", jobKey + ":failed", jobKey + ":unsuccessful")
    }

    /// HLEN, SCARD, HLEN, ZCARD: four replies for ``counts(_:)``.
    static func countCommands(jobKey: String) -> [RedisCommand] {
        let keys = keys(of: jobKey)
        return [
            RedisCommand("HLEN", .string(keys.processed)), RedisCommand("SCARD", .string(keys.unprocessed)),
            RedisCommand("HLEN", .string(keys.ignored)), RedisCommand("ZCARD", .string(keys.failed)),
        ]
    }

    static func counts(_ replies: ArraySlice<RESPValue>) -> DependencyCounts {
        let values = replies.map { $0.int ?? 0 } + [0, 0, 0, 0]
        return DependencyCounts(processed: values[0], unprocessed: values[1], ignored: values[2], failed: values[3])
    }

    /// The commands reading the children (everything when `pages` is nil or empty); as many replies as commands.
    static func commands(jobKey: String, pages: DependencyPages?) -> [RedisCommand] {
        let keys = keys(of: jobKey)
        guard let pages, !pages.isEmpty else {
            return [
                RedisCommand("HGETALL", .string(keys.processed)), RedisCommand("SMEMBERS", .string(keys.unprocessed)),
                RedisCommand("HGETALL", .string(keys.ignored)), RedisCommand("ZRANGE", .string(keys.failed), 0, -1),
            ]
        }
        var commands: [RedisCommand] = []
        func scan(_ name: String, _ key: String, _ page: DependencyPage?) {
            guard let page else { return }
            commands.append(RedisCommand(name, .string(key), RedisArgument(page.cursor), "COUNT", RedisArgument(page.count)))
        }
        scan("HSCAN", keys.processed, pages.processed)
        scan("SSCAN", keys.unprocessed, pages.unprocessed)
        scan("HSCAN", keys.ignored, pages.ignored)
        if let page = pages.failed {
            // One more than asked for tells whether another page follows.
            commands.append(RedisCommand("ZRANGE", .string(keys.failed), RedisArgument(page.cursor),
                                         RedisArgument(page.cursor + page.count)))
        }
        return commands
    }

    /// Decodes the replies of ``commands(jobKey:pages:)`` for the same `pages`.
    static func decode(_ replies: ArraySlice<RESPValue>, pages: DependencyPages?) throws -> JobDependencies {
        var replies = replies
        func next() throws -> RESPValue {
            guard let reply = replies.popFirst() else {
                throw QueueError(.unexpectedScriptResult, "reading a job's children returned too few replies")
            }
            if case .error(let error) = reply {
                throw QueueError(.unexpectedScriptResult, "reading a job's children failed: \(error.message)")
            }
            return reply
        }
        guard let pages, !pages.isEmpty else {
            return JobDependencies(processed: values((try next().array ?? []).fieldPairs),
                                   unprocessed: strings(try next()), ignored: (try next().array ?? []).fieldPairs,
                                   failed: strings(try next()))
        }
        var result = JobDependencies()
        var following = DependencyPages()
        if let page = pages.processed {
            let (cursor, items) = try scanned(try next())
            result.processed = values(items.fieldPairs)
            following.processed = cursor == 0 ? nil : DependencyPage(cursor: cursor, count: page.count)
        }
        if let page = pages.unprocessed {
            let (cursor, items) = try scanned(try next())
            result.unprocessed = items.compactMap(\.string)
            following.unprocessed = cursor == 0 ? nil : DependencyPage(cursor: cursor, count: page.count)
        }
        if let page = pages.ignored {
            let (cursor, items) = try scanned(try next())
            result.ignored = items.fieldPairs
            following.ignored = cursor == 0 ? nil : DependencyPage(cursor: cursor, count: page.count)
        }
        if let page = pages.failed {
            let keys = strings(try next())
            result.failed = Array(keys.prefix(page.count))
            following.failed = keys.count > page.count ? DependencyPage(cursor: page.cursor + page.count, count: page.count) : nil
        }
        result.nextPages = following.isEmpty ? nil : following
        return result
    }

    /// `[cursor, [items…]]` of a SCAN-family reply.
    private static func scanned(_ reply: RESPValue) throws -> (cursor: Int, items: [RESPValue]) {
        guard let parts = reply.array, parts.count == 2, let cursor = parts[0].int, let items = parts[1].array else {
            throw QueueError(.unexpectedScriptResult, "a scan of a job's children returned \(reply)")
        }
        return (cursor, items)
    }

    private static func strings(_ reply: RESPValue) -> [String] { (reply.array ?? []).compactMap(\.string) }


    /// Stored return values parsed as JSON; one that is not JSON is kept as a string, as ``Job/childrenValues(client:)`` does.
    private static func values(_ texts: [String: String]) -> [String: JSONValue] {
        texts.mapValues { (try? JSONValue.parse($0)) ?? .string($0) }
    }
}
