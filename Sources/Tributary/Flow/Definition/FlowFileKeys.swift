/// Every key the flow file formats accept, in one place: the readers check against these lists, the tests check
/// that flows/schema.json names exactly these keys, and docs/flow-file-format.md describes them.
enum FlowFileKeys {
    /// Top level of the native format.
    static let topLevel = ["flow", "queue", "prefix", "defaults", "nodes"]
    /// A node of the native format.
    static let node = ["name", "queue", "needs", "data", "opts", "onFailure", "run", "when", "map"]
    /// A node's `map` object.
    static let map = FlowMapReader.keys
    /// The keys of a `when` condition object (tests, operators and combinators).
    static let condition = FlowConditionReader.allKeys
    /// Job options a node's `opts` may set (the keys `JobOptions` reads).
    static let options = ["jobId", "delay", "priority", "lifo", "attempts", "backoff", "removeOnComplete",
                          "removeOnFail", "timestamp", "timeout"]
    /// Job options the native format's `defaults` may set: all but `jobId`, which must differ per node.
    static let defaultOptions = options.filter { $0 != "jobId" }
    /// BullMQ's four mutually exclusive failure options, accepted only in the nested BullMQ shape, in the order of
    /// the policies they stand for (fail, ignore, remove, continue).
    static let failureOptions = FailurePolicy.fileValues.compactMap(\.bullMQOption)
    /// Job options of a node in BullMQ's nested shape.
    static let bullMQOptions = options + failureOptions
    /// A node of BullMQ's nested FlowJob shape (the root's keys too).
    static let bullMQNode = ["name", "queueName", "data", "opts", "children", "prefix"]
    /// An object-valued `backoff`.
    static let backoff = ["type", "delay", "jitter"]
    /// An object-valued `removeOnComplete` / `removeOnFail`.
    static let retention = ["age", "count"]
    /// BullMQ job options Tributary flow files do not take; named so the message can say so rather than
    /// "unknown key".
    static let unsupportedBullMQOptions = ["keepLogs", "sizeLimit", "stackTraceLimit", "repeat", "repeatJobKey",
                                           "deduplication", "debounce", "parent", "prevMillis", "telemetry"]
}
