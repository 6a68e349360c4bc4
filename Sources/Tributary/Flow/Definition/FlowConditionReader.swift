/// Reads a node's `when` (docs/flow-file-format.md, "Conditions"): a test `{"input", "path", <operator>: operand}`
/// or a combinator `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`, checking operators, operand types and that
/// every input is a node of `needs`.
struct FlowConditionReader {
    /// The keys of a test, besides its operator.
    static let testKeys = ["input", "path"]
    /// The combinators.
    static let combinators = ["all", "any", "not"]
    /// Every key a condition object may have.
    static let allKeys = testKeys + FlowConditionTest.operatorNames + combinators

    let node: String
    /// The node's `needs`; `nil` skips the check (a condition read back from a job).
    let needs: Set<String>?

    /// Reads `value`, recording problems; `nil` when it has any.
    static func read(_ value: JSONValue, at path: FlowPath, node: String, needs: Set<String>?,
                     problems: inout FlowProblems) -> FlowCondition? {
        let before = problems.list.count
        let condition = FlowConditionReader(node: node, needs: needs).condition(value, at: path, problems: &problems)
        return problems.list.count == before ? condition : nil
    }

    /// A condition as stored on a job (`flowWhen`), or `nil` when the text is not a valid condition.
    static func stored(_ text: String) -> FlowCondition? {
        guard let json = try? JSONValue.parse(text) else { return nil }
        var problems = FlowProblems(source: "flowWhen")
        return read(json, at: .root, node: "", needs: nil, problems: &problems)
    }

    private func condition(_ value: JSONValue, at path: FlowPath, problems: inout FlowProblems) -> FlowCondition? {
        guard let object = value.objectValue else {
            problems.add(.wrongType, at: path, node: node,
                         "a condition must be an object such as {\"input\": \"check\", \"path\": \"ok\", \"equals\": true}, got \(value.kindForMessage)")
            return nil
        }
        for key in object.keys where !Self.allKeys.contains(key) {
            problems.add(.unknownKey, at: path, node: node,
                         "unknown operator '\(key)' in condition" + NearestName.hint(for: key, among: Self.allKeys))
        }
        let combinators = Self.combinators.filter { object[$0] != nil }
        if let combinator = combinators.first {
            let others = object.keys.filter { $0 != combinator && Self.allKeys.contains($0) }
            if !others.isEmpty {
                problems.add(.invalidCondition, at: path, node: node,
                             "'\(combinator)' must be alone in its object, found also \(others.map { "'\($0)'" }.joined(separator: ", "))")
                return nil
            }
            return self.combinator(combinator, object[combinator]!, at: path.key(combinator), problems: &problems)
        }
        return test(object, at: path, problems: &problems)
    }

    private func combinator(_ name: String, _ value: JSONValue, at path: FlowPath,
                            problems: inout FlowProblems) -> FlowCondition? {
        if name == "not" {
            return condition(value, at: path, problems: &problems).map(FlowCondition.not)
        }
        guard let elements = value.arrayValue else {
            problems.add(.wrongType, at: path, node: node, "'\(name)' takes an array of conditions, got \(value.kindForMessage)")
            return nil
        }
        if elements.isEmpty {
            problems.add(.invalidCondition, at: path, node: node, "'\(name)' needs at least one condition")
            return nil
        }
        var conditions: [FlowCondition] = []
        for (index, element) in elements.enumerated() {
            if let condition = condition(element, at: path.index(index), problems: &problems) { conditions.append(condition) }
        }
        guard conditions.count == elements.count else { return nil }
        return name == "all" ? .all(conditions) : .any(conditions)
    }

    private func test(_ object: JSONObject, at path: FlowPath, problems: inout FlowProblems) -> FlowCondition? {
        var input: String?
        if let value = object["input"] {
            if let text = value.stringValue {
                input = text
                if let needs, !needs.contains(text) {
                    let hint = NearestName.hint(for: text, among: needs.sorted())
                    problems.add(.inputNotNeeded, at: path.key("input"), node: node,
                                 "condition reads '\(text)', which node '\(node)' does not need: add it to \"needs\"\(hint)")
                }
            } else {
                problems.add(.wrongType, at: path.key("input"), node: node,
                             "must be the id of a needed node (a string), got \(value.kindForMessage)")
            }
        } else {
            problems.add(.missingKey, at: path, node: node, "a condition needs \"input\": the id of a needed node")
        }
        var components: [String] = []
        if let value = object["path"] {
            if let text = value.stringValue {
                components = FlowValuePath.components(text)
            } else {
                problems.add(.wrongType, at: path.key("path"), node: node,
                             "must be a dotted path into the input's result (a string), got \(value.kindForMessage)")
            }
        }
        let operators = FlowConditionTest.operatorNames.filter { object[$0] != nil }
        guard let name = operators.first else {
            let choices = FlowConditionTest.operatorNames.joined(separator: ", ")
            problems.add(.missingKey, at: path, node: node, "a condition needs one operator: \(choices)")
            return nil
        }
        if operators.count > 1 {
            problems.add(.invalidCondition, at: path, node: node,
                         "a condition takes one operator, found \(operators.map { "'\($0)'" }.joined(separator: ", ")); combine tests with \"all\" or \"any\"")
            return nil
        }
        guard let test = operand(name, object[name]!, at: path.key(name), problems: &problems), let input else { return nil }
        return .test(input: input, path: components, test)
    }

    private func operand(_ name: String, _ value: JSONValue, at path: FlowPath,
                         problems: inout FlowProblems) -> FlowConditionTest? {
        switch name {
        case "equals": return .equals(value)
        case "notEquals": return .notEquals(value)
        case "in":
            if let elements = value.arrayValue { return .isIn(elements) }
            problems.add(.wrongType, at: path, node: node, "'in' takes an array of values, got \(value.kindForMessage)")
        case "greaterThan", "lessThan":
            if case .bool = value {} else if let number = value.doubleValue {
                return name == "greaterThan" ? .greaterThan(number) : .lessThan(number)
            }
            problems.add(.wrongType, at: path, node: node, "'\(name)' takes a number, got \(value.kindForMessage)")
        default:
            if let flag = value.boolValue { return .exists(flag) }
            problems.add(.wrongType, at: path, node: node, "'exists' takes true or false, got \(value.kindForMessage)")
        }
        return nil
    }
}
