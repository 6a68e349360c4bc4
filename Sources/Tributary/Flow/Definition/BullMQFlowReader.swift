/// Reads a file in BullMQ's nested FlowJob shape: a root `{name, queueName, data, opts, children, prefix}` whose
/// `children` are nodes of the same shape. Each node needs its children, so every node but the root has exactly one
/// dependent (its parent).
///
/// Node ids: a node's `name` when no other node of the file has that name and the name is not `root` and contains
/// neither '/' nor ':'; otherwise `root` for the root and `<parent id>/children[<index>]` for a child. Generated
/// ids always contain '/' (or are `root`), so they never collide with names used as ids.
struct BullMQFlowReader {
    /// A node found while walking the tree, before ids are assigned.
    private struct Found {
        let object: JSONObject
        let path: FlowPath
        let parent: Int?
        let childIndex: Int
    }

    private var problems: FlowProblems
    private var found: [Found] = []
    private var draft = FlowDraft()

    /// Reads `document` (the root node), recording every problem.
    static func read(_ document: JSONObject, problems: inout FlowProblems) -> FlowDraft {
        var reader = BullMQFlowReader(problems: problems)
        reader.collect(document, at: .root, parent: nil, childIndex: 0)
        reader.readAll()
        problems = reader.problems
        return reader.draft
    }

    private init(problems: FlowProblems) {
        self.problems = problems
    }

    /// Walks the tree in pre-order (parent before its children), keeping the node objects.
    private mutating func collect(_ object: JSONObject, at path: FlowPath, parent: Int?, childIndex: Int) {
        let index = found.count
        found.append(Found(object: object, path: path, parent: parent, childIndex: childIndex))
        guard let children = object["children"] else { return }
        guard let elements = children.arrayValue else {
            problems.add(.wrongType, at: path.key("children"), "must be an array of nodes, got \(children.kindForMessage)")
            return
        }
        for (position, element) in elements.enumerated() {
            let childPath = path.key("children").index(position)
            if let child = element.objectValue {
                collect(child, at: childPath, parent: index, childIndex: position)
            } else {
                problems.add(.wrongType, at: childPath, "a node must be an object, got \(element.kindForMessage)")
            }
        }
    }

    /// The id of every found node, following the rule in the type's documentation.
    private func assignIds() -> [String] {
        var nameCounts: [String: Int] = [:]
        for node in found {
            if let name = node.object["name"]?.stringValue { nameCounts[name, default: 0] += 1 }
        }
        var ids: [String] = []
        for node in found {
            if let name = node.object["name"]?.stringValue, nameCounts[name] == 1, !name.isEmpty, name != "root",
               !name.contains("/"), !name.contains(":") {
                ids.append(name)
            } else if let parent = node.parent {
                ids.append("\(ids[parent])/children[\(node.childIndex)]")
            } else {
                ids.append("root")
            }
        }
        return ids
    }

    private mutating func readAll() {
        let ids = assignIds()
        var needs = [[DraftNode.Need]](repeating: [], count: found.count)
        for (index, node) in found.enumerated() {
            if let parent = node.parent {
                needs[parent].append(DraftNode.Need(id: ids[index], path: node.path))
            }
        }
        for (index, node) in found.enumerated() {
            readNode(node, id: ids[index], needs: needs[index])
        }
    }

    private mutating func readNode(_ found: Found, id: String, needs: [DraftNode.Need]) {
        let object = found.object
        let path = found.path
        let isRoot = found.parent == nil
        let allowed = isRoot ? FlowFileKeys.bullMQRoot : FlowFileKeys.bullMQNode
        for key in object.keys where !allowed.contains(key) {
            let only = key == FlowFileKeys.schema ? " ('$schema' belongs at the top level only)" : ""
            problems.add(.unknownKey, at: path, node: id,
                         "unknown key '\(key)' in node '\(id)'" + (only.isEmpty ? NearestName.hint(for: key, among: allowed) : only))
        }
        if isRoot {
            FlowFileKeys.checkSchemaReference(object, problems: &problems)
        }
        var node = DraftNode(id: id, path: path, name: id, queue: "", data: object["data"] ?? [:], options: JobOptions(),
                             jobIdPath: path.key("opts").key("jobId"), needs: needs, onFailure: .keepWaiting, command: nil)
        if let value = object["name"] {
            if let name = value.stringValue, !name.isEmpty {
                node.name = name
                if isRoot {
                    if let problem = FlowNames.problem(with: name, what: "the flow name (the root's name)") {
                        problems.add(.invalidName, at: path.key("name"), node: id, problem)
                    } else {
                        draft.flow = name
                    }
                }
            } else {
                problems.add(value.stringValue == nil ? .wrongType : .invalidValue, at: path.key("name"), node: id,
                             "must be a non-empty string (the job name), got \(value.quotedForMessage)")
            }
        } else {
            problems.add(.missingKey, at: path, node: id, "missing required key 'name' in node '\(id)'")
        }
        if let value = object["queueName"] {
            if let queue = value.stringValue {
                if let problem = FlowNames.problem(with: queue, what: "queue name") {
                    problems.add(.invalidName, at: path.key("queueName"), node: id, problem)
                } else {
                    node.queue = queue
                }
            } else {
                problems.add(.wrongType, at: path.key("queueName"), node: id,
                             "queue name must be a string, got \(value.kindForMessage)")
            }
        } else {
            problems.add(.missingQueue, at: path, node: id, "missing required key 'queueName' in node '\(id)'")
        }
        if let value = object["prefix"] {
            readPrefix(value, at: path.key("prefix"), node: id, isRoot: isRoot)
        }
        var options: JSONObject = [:]
        if let value = object["opts"] {
            let checked = FlowOptionsReader.check(value, at: path.key("opts"), node: id, context: .bullMQNode,
                                                  problems: &problems)
            options = checked.members
            node.onFailure = checked.failurePolicy ?? .keepWaiting
        }
        node.options = FlowOptionsReader.merged(defaults: [:], node: options, at: path.key("opts"), id: id, problems: &problems)
        draft.nodes.append(node)
    }

    /// The root's prefix becomes the plan's; a child may repeat it but not name another (a plan has one prefix).
    private mutating func readPrefix(_ value: JSONValue, at path: FlowPath, node: String, isRoot: Bool) {
        guard let prefix = value.stringValue, !prefix.isEmpty else {
            problems.add(value.stringValue == nil ? .wrongType : .invalidValue, at: path, node: node,
                         "must be a non-empty string (a key prefix such as 'bull' or '{tributary}'), got \(value.quotedForMessage)")
            return
        }
        if isRoot {
            draft.prefix = prefix
        } else if prefix != found.first?.object["prefix"]?.stringValue {
            problems.add(.invalidValue, at: path, node: node,
                         "prefix '\(prefix)' differs from the root's: every node of a flow file uses one prefix")
        }
    }
}
