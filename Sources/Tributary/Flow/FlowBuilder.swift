/// Builds a ``FlowPlan`` in Swift, node by node, without writing JSON. The result is checked exactly as a flow file
/// is (``FlowCompiler``): unknown or cyclic needs, conditions reading nodes that are not needed, bad options, …
///
/// ```swift
/// var flow = FlowBuilder("map-reduce", queue: "files")
/// flow.node("list")
/// flow.node("convert", needs: ["list"], map: FlowMap(items: .input(node: "list", path: ["files"]), maxConcurrency: 8),
///           options: JobOptions(attempts: 3))
/// flow.node("merge", needs: ["convert"])
/// flow.node("publish", needs: ["merge"], when: .input("merge", path: "ok", .equals(true)))
/// let plan = try flow.build()
/// try await FlowProducer(client: client).submit(plan)
/// ```
public struct FlowBuilder: Sendable {
    /// The flow's name.
    public let flow: String
    /// The default queue of nodes that do not name one.
    public var queue: String?
    /// The key prefix the plan asks for; `nil` uses the producer's.
    public var prefix: String?
    /// Options every node starts from (a node's own options win key by key).
    public var defaults: JobOptions?
    private var nodes: JSONObject = [:]

    /// Starts a flow called `flow`, with an optional default queue.
    public init(_ flow: String, queue: String? = nil, prefix: String? = nil, defaults: JobOptions? = nil) {
        self.flow = flow
        self.queue = queue
        self.prefix = prefix
        self.defaults = defaults
    }

    /// Adds (or replaces) the node `id`. Every parameter means what the flow file key of the same meaning does
    /// (docs/flow-file-format.md): `name` the job name (the id by default), `command` the `run` step, `when` the
    /// condition, `map` the list to map over.
    public mutating func node(_ id: String, name: String? = nil, queue: String? = nil, needs: [String] = [],
                              data: JSONValue? = nil, options: JobOptions? = nil, onFailure: FailurePolicy? = nil,
                              command: [String]? = nil, when condition: FlowCondition? = nil, map: FlowMap? = nil) {
        var node: JSONObject = [:]
        if let name { node["name"] = .string(name) }
        if let queue { node["queue"] = .string(queue) }
        if !needs.isEmpty { node["needs"] = .array(needs.map { .string($0) }) }
        if let data { node["data"] = data }
        if let options { node["opts"] = Self.fileOptions(options) }
        if let onFailure { node["onFailure"] = .string(onFailure.rawValue) }
        if let command { node["run"] = .array(command.map { .string($0) }) }
        if let condition { node["when"] = condition.json }
        if let map { node["map"] = map.fileJSON }
        nodes[id] = .object(node)
    }

    /// The flow as a flow file's JSON document.
    public var json: JSONValue {
        var document: JSONObject = ["flow": .string(flow)]
        if let queue { document["queue"] = .string(queue) }
        if let prefix { document["prefix"] = .string(prefix) }
        if let defaults { document["defaults"] = Self.fileOptions(defaults) }
        document["nodes"] = .object(nodes)
        return .object(document)
    }

    /// Checks the flow and returns its plan.
    ///
    /// - Throws: ``FlowFileError`` with every problem; paths name the nodes as a file would (`nodes.merge.needs[0]`).
    public func build() throws(FlowFileError) -> FlowPlan {
        try FlowCompiler.compile(json, source: "FlowBuilder(\(flow))")
    }

    /// Options as a flow file writes them: BullMQ's names, only those that differ from `JobOptions()` (so a node's
    /// options do not reset the defaults' attempts to 0), without the failure flags (`onFailure` says that).
    private static func fileOptions(_ options: JobOptions) -> JSONValue {
        guard case .object(var stored) = options.storedJSON, case .object(let plain) = JobOptions().storedJSON else {
            return [:]
        }
        // Stored as BullMQ's `de`, written in a file as `deduplication`.
        if let deduplication = stored.removeValue(forKey: "de") { stored["deduplication"] = deduplication }
        return .object(stored.filter { FlowFileKeys.options.contains($0.key) && plain[$0.key] != $0.value })
    }
}

extension FlowCondition {
    /// A test of one input: `.input("check", path: "ok", .equals(true))`.
    public static func input(_ node: String, path: String = "", _ test: FlowConditionTest) -> FlowCondition {
        .test(input: node, path: FlowValuePath.components(path), test)
    }
}

extension FlowMap {
    /// The map as a flow file writes it.
    var fileJSON: JSONValue {
        var object: JSONObject = [:]
        switch items {
        case .input(let node, let path): object["items"] = .string(([node] + path).joined(separator: "."))
        case .literal(let values): object["items"] = .array(values)
        }
        if let maxConcurrency { object["maxConcurrency"] = .int(Int64(maxConcurrency)) }
        switch toleratedFailures {
        case .count(let count): object["toleratedFailures"] = .int(Int64(count))
        case .percent(let percent):
            let text = Int64(exactly: percent).map(String.init) ?? String(percent)
            object["toleratedFailures"] = .string(text + "%")
        }
        return .object(object)
    }
}
