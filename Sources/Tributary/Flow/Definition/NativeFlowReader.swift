/// Reads the native flow file format (`flow`, `queue`, `prefix`, `defaults`, `nodes`): see
/// docs/flow-file-format.md.
struct NativeFlowReader {
    private var problems: FlowProblems
    private var draft = FlowDraft()

    /// Reads `document` (a JSON object), recording every problem.
    static func read(_ document: JSONObject, problems: inout FlowProblems) -> FlowDraft {
        var reader = NativeFlowReader(problems: problems)
        reader.read(document)
        problems = reader.problems
        return reader.draft
    }

    private init(problems: FlowProblems) {
        self.problems = problems
    }

    private mutating func read(_ document: JSONObject) {
        for key in document.keys where !FlowFileKeys.topLevel.contains(key) {
            problems.add(.unknownKey, at: .root,
                         "unknown top-level key '\(key)'" + NearestName.hint(for: key, among: FlowFileKeys.topLevel))
        }
        FlowFileKeys.checkSchemaReference(document, problems: &problems)
        if let flow = document["flow"] {
            draft.flow = name(flow, at: FlowPath.root.key("flow"), what: "flow name")
        } else {
            problems.add(.missingKey, at: .root, "missing required key 'flow' (the flow's name)")
        }
        let defaultQueue = document["queue"].flatMap { name($0, at: FlowPath.root.key("queue"), what: "queue name") }
        if let prefix = document["prefix"] {
            if let text = prefix.stringValue, !text.isEmpty {
                draft.prefix = text
            } else {
                problems.add(prefix.stringValue == nil ? .wrongType : .invalidValue, at: FlowPath.root.key("prefix"),
                             "must be a non-empty string (a key prefix such as 'bull' or '{tributary}'), got \(prefix.quotedForMessage)")
            }
        }
        if let schedule = document["schedule"] {
            do {
                _ = try FlowSchedule.repeatOptions(from: schedule)
            } catch let error as QueueError {
                problems.add(.invalidValue, at: FlowPath.root.key("schedule"), error.message)
            } catch {
                problems.add(.invalidValue, at: FlowPath.root.key("schedule"), "\(error)")
            }
        }
        var defaults: JSONObject = [:]
        if let value = document["defaults"] {
            defaults = FlowOptionsReader.check(value, at: FlowPath.root.key("defaults"), node: nil, context: .defaults,
                                               problems: &problems).members
        }
        draft.nodesPath = FlowPath.root.key("nodes")
        guard let nodesValue = document["nodes"] else {
            problems.add(.missingKey, at: .root, "missing required key 'nodes' (an object mapping node ids to nodes)")
            return
        }
        guard let nodes = nodesValue.objectValue else {
            problems.add(.wrongType, at: draft.nodesPath,
                         "must be an object mapping node ids to nodes, got \(nodesValue.kindForMessage)")
            return
        }
        if nodes.isEmpty {
            problems.add(.emptyFlow, at: draft.nodesPath, "the flow has no nodes")
        }
        let encryption = FlowEncryptionReader.topLevel(document, problems: &problems)
        for (id, value) in nodes {
            readNode(id, value, defaultQueue: defaultQueue, defaults: defaults, encryption: encryption)
        }
    }

    private mutating func readNode(_ id: String, _ value: JSONValue, defaultQueue: String?, defaults: JSONObject,
                                   encryption: FlowEncryptionReader.TopLevel) {
        let path = draft.nodesPath.key(id)
        if let problem = FlowNames.problem(with: id, what: "node id") {
            problems.add(.invalidName, at: path, node: id, problem)
        }
        var node = DraftNode(id: id, path: path, name: id, queue: defaultQueue ?? "", data: [:],
                             options: JobOptions(), jobIdPath: path.key("opts").key("jobId"), needs: [],
                             onFailure: .fail, command: nil)
        defer { draft.nodes.append(node) }
        guard let object = value.objectValue else {
            problems.add(.wrongType, at: path, node: id, "a node must be an object, got \(value.kindForMessage)")
            return
        }
        for key in object.keys where !FlowFileKeys.node.contains(key) {
            problems.add(.unknownKey, at: path, node: id,
                         "unknown key '\(key)' in node '\(id)'" + NearestName.hint(for: key, among: FlowFileKeys.node))
        }
        if let value = object["name"] {
            if let name = value.stringValue, !name.isEmpty {
                node.name = name
            } else {
                problems.add(value.stringValue == nil ? .wrongType : .invalidValue, at: path.key("name"), node: id,
                             "must be a non-empty string (the job name), got \(value.quotedForMessage)")
            }
        }
        if let value = object["queue"] {
            node.queue = name(value, at: path.key("queue"), node: id, what: "queue name") ?? ""
        } else if defaultQueue == nil {
            problems.add(.missingQueue, at: path, node: id,
                         "node '\(id)' has no queue: give it a \"queue\" or set a default \"queue\" at the top level")
        }
        if let value = object["needs"] {
            node.needs = needs(value, at: path.key("needs"), node: id)
        }
        if let data = object["data"] {
            node.data = data
        }
        var options: JSONObject = [:]
        var flagged: (policy: FailurePolicy, key: String)?
        if let value = object["opts"] {
            let checked = FlowOptionsReader.check(value, at: path.key("opts"), node: id, context: .nativeNode,
                                                  problems: &problems)
            options = checked.members
            if let policy = checked.failurePolicy, let key = checked.failureKey { flagged = (policy, key) }
        }
        node.options = FlowOptionsReader.merged(defaults: defaults, node: options, at: path.key("opts"), id: id, problems: &problems)
        if let value = object["onFailure"] {
            node.onFailure = onFailure(value, at: path.key("onFailure"), node: id)
            if let flagged, let text = value.stringValue, FailurePolicy(rawValue: text) != nil, flagged.policy != node.onFailure {
                problems.add(.conflictingOptions, at: path.key("opts").key(flagged.key), node: id,
                             "'\(flagged.key)' means \"onFailure\": \"\(flagged.policy.rawValue)\", but the node's "
                                 + "\"onFailure\" is \"\(text)\"; keep only \"onFailure\"")
            }
        } else if let flagged {
            // BullMQ's short flag, as a synonym of onFailure.
            node.onFailure = flagged.policy
        }
        if let value = object["run"] {
            node.command = command(value, at: path.key("run"), node: id)
        }
        if let value = object["when"] {
            node.condition = FlowConditionReader.read(value, at: path.key("when"), node: id,
                                                      needs: Set(node.needs.map(\.id)), problems: &problems)
        }
        if let value = object["map"] {
            node.map = FlowMapReader.read(value, at: path.key("map"), node: id, needs: node.needs.map(\.id),
                                          problems: &problems)
        }
        FlowEncryptionReader.apply(to: &node, object, topLevel: encryption, problems: &problems)
    }

    /// `needs`: one id or an array of ids. Malformed entries are reported and left out.
    private mutating func needs(_ value: JSONValue, at path: FlowPath, node: String) -> [DraftNode.Need] {
        switch value {
        case .string(let id):
            return [DraftNode.Need(id: id, path: path)]
        case .array(let elements):
            var needs: [DraftNode.Need] = []
            for (index, element) in elements.enumerated() {
                if let id = element.stringValue {
                    needs.append(DraftNode.Need(id: id, path: path.index(index)))
                } else {
                    problems.add(.wrongType, at: path.index(index), node: node,
                                 "must be a node id (a string), got \(element.kindForMessage)")
                }
            }
            return needs
        default:
            problems.add(.wrongType, at: path, node: node,
                         "must be a node id or an array of node ids, got \(value.kindForMessage)")
            return []
        }
    }

    private mutating func onFailure(_ value: JSONValue, at path: FlowPath, node: String) -> FailurePolicy {
        let allowed = FailurePolicy.fileValues.map(\.rawValue)
        let choices = allowed.map { "'\($0)'" }.joined(separator: ", ")
        guard let text = value.stringValue else {
            problems.add(.wrongType, at: path, node: node, "must be one of \(choices), got \(value.kindForMessage)")
            return .fail
        }
        if let policy = FailurePolicy(rawValue: text), FailurePolicy.fileValues.contains(policy) {
            return policy
        }
        problems.add(.invalidValue, at: path, node: node,
                     "must be one of \(choices), got '\(text)'" + NearestName.hint(for: text, among: allowed))
        return .fail
    }

    /// `run`: a non-empty array of non-empty strings (the program and its arguments).
    private mutating func command(_ value: JSONValue, at path: FlowPath, node: String) -> [String]? {
        guard let elements = value.arrayValue else {
            let hint = value.stringValue == nil ? "" : "; for a shell command line write [\"sh\", \"-c\", \"...\"]"
            problems.add(.wrongType, at: path, node: node,
                         "must be an array of strings (the program and its arguments), got \(value.kindForMessage)\(hint)")
            return nil
        }
        if elements.isEmpty {
            problems.add(.invalidValue, at: path, node: node, "must not be empty: the first element is the program to run")
            return nil
        }
        var command: [String] = []
        for (index, element) in elements.enumerated() {
            if let text = element.stringValue, !text.isEmpty {
                command.append(text)
            } else {
                problems.add(element.stringValue == nil ? .wrongType : .invalidValue, at: path.index(index), node: node,
                             "must be a non-empty string, got \(element.quotedForMessage)")
            }
        }
        return command.count == elements.count ? command : nil
    }

    /// A flow or queue name: a string, non-empty, without ':'. Returns it, or `nil` after reporting.
    private mutating func name(_ value: JSONValue, at path: FlowPath, node: String? = nil, what: String) -> String? {
        guard let text = value.stringValue else {
            problems.add(.wrongType, at: path, node: node, "\(what) must be a string, got \(value.kindForMessage)")
            return nil
        }
        if let problem = FlowNames.problem(with: text, what: what) {
            problems.add(.invalidName, at: path, node: node, problem)
            return nil
        }
        return text
    }
}
