/// Every key the flow file formats accept, in one place: the readers check against these lists, the tests check
/// that flows/schema.json names exactly these keys, and docs/flow-file-format.md describes them.
enum FlowFileKeys {
    /// The key editors read to find a file's JSON Schema (e.g. `"./schema.json"`); accepted at the top level of
    /// both formats (the root node of BullMQ's nested shape) and nowhere else, and otherwise ignored.
    static let schema = "$schema"
    /// Top level of the native format.
    static let topLevel = [schema, "flow", "queue", "prefix", "defaults", "schedule", "encrypt", "encryptResult", "nodes"]
    /// A node of the native format.
    static let node = ["name", "queue", "needs", "data", "opts", "onFailure", "run", "when", "map", "encrypt", "encryptResult"]
    /// A node's `map` object.
    static let map = FlowMapReader.keys
    /// The keys of a `when` condition object (tests, operators and combinators).
    static let condition = FlowConditionReader.allKeys
    /// Job options a node's `opts` may set (the keys `JobOptions` reads).
    static let options = ["jobId", "delay", "priority", "lifo", "attempts", "backoff", "removeOnComplete",
                          "removeOnFail", "timestamp", "timeout", "deduplication"]
    /// Options only a node may set: `jobId` and `deduplication` must differ per node.
    static let nodeOnlyOptions = ["jobId", "deduplication"]
    /// Job options the native format's `defaults` may set: all but ``nodeOnlyOptions``.
    static let defaultOptions = options.filter { !nodeOnlyOptions.contains($0) }
    /// A node's `deduplication` object (BullMQ's `extend`, `replace` and `keepLastIfActive` are not for flow nodes).
    static let deduplication = ["id", "ttl"]
    /// BullMQ's four mutually exclusive failure options, accepted only in the nested BullMQ shape, in the order of
    /// the policies they stand for (fail, ignore, remove, continue).
    static let failureOptions = FailurePolicy.fileValues.compactMap(\.bullMQOption)
    /// BullMQ's short flags for the same four policies (`fpof`, `idof`, `rdof`, `cpof`), as BullMQ stores them in
    /// `opts`: accepted in a node's `opts` in both formats, as synonyms of `onFailure` (native) or of the long
    /// options (nested shape).
    static let failureFlags = FailurePolicy.fileValues.compactMap(\.bullMQFlag)
    /// Job options of a node in the native format (the failure flags included).
    static let nativeNodeOptions = options + failureFlags
    /// Job options of a node in BullMQ's nested shape.
    static let bullMQOptions = options + failureOptions + failureFlags
    /// A node of BullMQ's nested FlowJob shape (the root's keys too).
    static let bullMQNode = ["name", "queueName", "data", "opts", "children", "prefix"]
    /// The root node of BullMQ's nested shape: a node's keys and `$schema`.
    static let bullMQRoot = [schema] + bullMQNode
    /// An object-valued `backoff`.
    static let backoff = ["type", "delay", "jitter"]
    /// An object-valued `removeOnComplete` / `removeOnFail`.
    static let retention = ["age", "count"]
    /// BullMQ job options Tributary flow files do not take; named so the message can say so rather than
    /// "unknown key".
    static let unsupportedBullMQOptions = ["keepLogs", "sizeLimit", "stackTraceLimit", "repeat", "repeatJobKey",
                                           "debounce", "parent", "prevMillis", "telemetry"]
}

extension FlowFileKeys {
    /// Reports a top-level `$schema` that is not a string (it names the schema by URI or relative path).
    static func checkSchemaReference(_ document: JSONObject, problems: inout FlowProblems) {
        guard let value = document[schema], value.stringValue == nil else { return }
        problems.add(.wrongType, at: FlowPath.root.key(schema),
                     "must be a string (the URI or relative path of a JSON Schema, such as \"./schema.json\"), got \(value.kindForMessage)")
    }
}
