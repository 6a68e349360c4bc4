/// One entry of a queue's events stream (`<prefix>:<queue>:events`), with BullMQ's event names and fields.
public struct QueueEvent: Sendable, Hashable {
    /// The stream entry id, e.g. `1795381127617-0`.
    public let streamID: String
    /// The event name: `added`, `waiting`, `active`, `progress`, `completed`, `failed`, `delayed`, `stalled`,
    /// `removed`, `drained`, `paused`, `resumed`, `retries-exhausted`, `duplicated`, `deduplicated`,
    /// `waiting-children`…
    public let name: String
    /// Every field of the entry, `event` included.
    public let fields: [String: String]

    /// The job the event is about (absent for queue-wide events such as `drained` or `paused`).
    public var jobId: String? { fields["jobId"] }
    /// The state the job came from, for transitions that record it.
    public var previous: String? { fields["prev"] }
    /// The return value of a `completed` event.
    public var returnValue: JSONValue? { fields["returnvalue"].flatMap { try? JSONValue.parse($0) } }
    /// The reason of a `failed` event.
    public var failedReason: String? { fields["failedReason"] }
    /// The progress of a `progress` event.
    public var progress: JSONValue? { fields["data"].flatMap { try? JSONValue.parse($0) } }
    /// The deduplication id of a `deduplicated` event (its ``jobId`` is the job that holds the id).
    public var deduplicationId: String? { fields["deduplicationId"] }
    /// The id the skipped job of a `deduplicated` event would have had (for a replacement: the replaced job).
    public var deduplicatedJobId: String? { fields["deduplicatedJobId"] }
}

/// Reads a queue's events stream as an `AsyncSequence`, with XREAD BLOCK on a connection of its own.
///
/// ```swift
/// for try await event in QueueEvents(queue: "emails", client: client) where event.name == "completed" {
///     print(event.jobId ?? "", event.returnValue ?? .null)
/// }
/// ```
///
/// By default it starts at the end of the stream (events written after the first read); pass
/// `startingAfter: "0"` to read the stream from its beginning. Ends when the iterating task is cancelled.
public struct QueueEvents: AsyncSequence, Sendable {
    public typealias Element = QueueEvent

    /// The queue's keys.
    public let keys: QueueKeys
    let client: RedisClient
    let startingAfter: String?
    let blockTimeout: Duration

    /// Creates a reader of the queue's events.
    ///
    /// - Parameters:
    ///   - queue: the queue whose `events` stream is read.
    ///   - client: the client to read with; each XREAD runs on a dedicated connection.
    ///   - prefix: the queues' key prefix (`bull` by default).
    ///   - startingAfter: a stream id to read after; `nil` (the default) starts at the stream's current end.
    ///   - blockTimeout: how long one XREAD waits (BullMQ uses 10 s); the sequence simply reads again after it.
    public init(queue: String, client: RedisClient, prefix: String = "bull", startingAfter: String? = nil,
                blockTimeout: Duration = .seconds(10)) {
        self.keys = QueueKeys(prefix: prefix, queueName: queue)
        self.client = client
        self.startingAfter = startingAfter
        self.blockTimeout = blockTimeout
    }

    /// The id of the newest entry of the stream now, `0-0` when it is empty: a starting point that misses nothing
    /// written after this call.
    public static func currentEnd(of keys: QueueKeys, client: RedisClient) async throws -> String {
        let newest = try await client.send(RedisCommand("XREVRANGE", .string(keys.key(.events)), "+", "-", "COUNT", 1))
        return newest.array?.first?.array?.first?.string ?? "0-0"
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self, lastID: startingAfter)
    }

    /// Reads batches of up to 100 entries and hands them out one by one.
    public struct Iterator: AsyncIteratorProtocol {
        let sequence: QueueEvents
        var lastID: String?
        var buffer: [QueueEvent] = []

        public mutating func next() async throws -> QueueEvent? {
            while buffer.isEmpty {
                if Task.isCancelled { return nil }
                if lastID == nil { lastID = try await QueueEvents.currentEnd(of: sequence.keys, client: sequence.client) }
                let reply: RESPValue
                do {
                    reply = try await sequence.client.send(RedisCommand(
                        "XREAD", "COUNT", 100, "BLOCK", .integer(Swift.max(sequence.blockTimeout.milliseconds, 1)), "STREAMS",
                        .string(sequence.keys.key(.events)), .string(lastID ?? "$")))
                } catch {
                    if Task.isCancelled { return nil }
                    throw error
                }
                // [[stream, [[id, [field, value, …]], …]]], or null after the timeout.
                let entries = reply.array?.first?.array?.dropFirst().first?.array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { continue }
                    let fields = (parts[1].array ?? []).fieldPairs
                    buffer.append(QueueEvent(streamID: id, name: fields["event"] ?? "", fields: fields))
                    lastID = id
                }
            }
            return buffer.removeFirst()
        }
    }
}

/// A job ended in `failed` while someone waited for it to finish.
public struct JobFailedError: Error, Sendable, CustomStringConvertible {
    /// The id of the job that failed.
    public let jobId: String
    /// The job's `failedReason`, as the worker recorded it.
    public let reason: String
    public var description: String { "job \(jobId) failed: \(reason)" }
}

extension Queue {
    /// Waits until the job completes (returning its value) or fails (throwing ``JobFailedError``), reading the
    /// events stream, as BullMQ's `waitUntilFinished` does. Cancel the calling task to stop waiting.
    ///
    /// - Throws: ``QueueError`` `jobNotFound` when the job does not exist; ``JobFailedError``.
    public func waitUntilFinished(_ jobId: String) async throws -> JSONValue {
        // Fix the starting point first, so that an ending between the state check and the first read is not missed.
        let start = try await QueueEvents.currentEnd(of: keys, client: client)
        // The state first, then the job: a finished job's fields no longer change.
        let state = try await getState(jobId)
        guard let job = try await getJob(jobId) else {
            throw QueueError(.jobNotFound, "job \(jobId) does not exist in queue '\(name)'")
        }
        switch state {
        case .completed: return job.returnValue ?? .null
        case .failed: throw JobFailedError(jobId: jobId, reason: job.failedReason ?? "")
        default: break
        }
        for try await event in QueueEvents(queue: name, client: client, prefix: keys.prefix, startingAfter: start)
        where event.jobId == jobId {
            if event.name == "completed" { return event.returnValue ?? .null }
            // A `failed` event is only written when the job failed for good (a retry writes `waiting` or
            // `delayed`), so it is trusted as is: the job may be gone already (removeOnFail).
            if event.name == "failed" { throw JobFailedError(jobId: jobId, reason: event.failedReason ?? "") }
        }
        throw CancellationError()
    }
}
