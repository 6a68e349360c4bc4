/// A condition on a flow node (`"when"` in a flow file), evaluated once the node's inputs are complete and before it
/// runs. When it does not hold, the node is *skipped*: no handler runs, no attempt is counted, and its dependents
/// run as if it had completed, seeing it in ``Job/skippedInputs`` instead of ``Job/inputs``.
///
/// ```json
/// "publish": {"needs": ["check"], "when": {"input": "check", "path": "ok", "equals": true}}
/// "notify":  {"needs": ["a", "b"], "when": {"any": [{"input": "a", "exists": true},
///                                                   {"not": {"input": "b", "path": "count", "lessThan": 10}}]}}
/// ```
public indirect enum FlowCondition: Sendable, Equatable {
    /// One test of a value of one input: the result of `input` (a node of `needs`), followed along `path`.
    case test(input: String, path: [String], FlowConditionTest)
    /// Every condition holds (true when empty).
    case all([FlowCondition])
    /// At least one condition holds (false when empty).
    case any([FlowCondition])
    /// The condition does not hold.
    case not(FlowCondition)

    /// Whether the condition holds for these inputs (node id → result). An input that is missing (skipped, or
    /// failed under `ignore`), or a path that leads nowhere, is a missing value: only `exists: false` and
    /// `notEquals` hold for it.
    public func holds(for inputs: [String: JSONValue]) -> Bool {
        switch self {
        case .test(let input, let path, let test):
            return test.holds(for: inputs[input].flatMap { FlowValuePath.follow(path, in: $0) })
        case .all(let conditions):
            return conditions.allSatisfy { $0.holds(for: inputs) }
        case .any(let conditions):
            return conditions.contains { $0.holds(for: inputs) }
        case .not(let condition):
            return !condition.holds(for: inputs)
        }
    }

    /// The nodes whose results the condition reads.
    public var inputs: [String] {
        switch self {
        case .test(let input, _, _): return [input]
        case .all(let conditions), .any(let conditions): return conditions.flatMap(\.inputs)
        case .not(let condition): return condition.inputs
        }
    }

    /// The condition written the way a flow file writes it (how it is stored on the node's job, field `flowWhen`).
    public var json: JSONValue {
        switch self {
        case .test(let input, let path, let test):
            var object: JSONObject = ["input": .string(input)]
            if !path.isEmpty { object["path"] = .string(path.joined(separator: ".")) }
            let (name, operand) = test.operatorAndOperand
            object[name] = operand
            return .object(object)
        case .all(let conditions): return ["all": .array(conditions.map(\.json))]
        case .any(let conditions): return ["any": .array(conditions.map(\.json))]
        case .not(let condition): return ["not": condition.json]
        }
    }
}

/// The operator of a ``FlowCondition`` test and its operand.
public enum FlowConditionTest: Sendable, Equatable {
    /// The value equals the operand (numbers compare by value: `1` equals `1.0`).
    case equals(JSONValue)
    /// The value is missing or differs from the operand.
    case notEquals(JSONValue)
    /// The value equals one of the operands.
    case isIn([JSONValue])
    /// The value is a number greater than the operand.
    case greaterThan(Double)
    /// The value is a number less than the operand.
    case lessThan(Double)
    /// `true`: the value is there (even `null`); `false`: it is missing.
    case exists(Bool)

    /// The operator names a flow file may use, in the order the docs list them.
    public static let operatorNames = ["equals", "notEquals", "in", "greaterThan", "lessThan", "exists"]

    func holds(for value: JSONValue?) -> Bool {
        switch self {
        case .equals(let operand): return value.map { Self.same($0, operand) } ?? false
        case .notEquals(let operand): return value.map { !Self.same($0, operand) } ?? true
        case .isIn(let operands): return value.map { value in operands.contains { Self.same(value, $0) } } ?? false
        case .greaterThan(let bound): return Self.number(value).map { $0 > bound } ?? false
        case .lessThan(let bound): return Self.number(value).map { $0 < bound } ?? false
        case .exists(let wanted): return (value != nil) == wanted
        }
    }

    var operatorAndOperand: (String, JSONValue) {
        switch self {
        case .equals(let operand): return ("equals", operand)
        case .notEquals(let operand): return ("notEquals", operand)
        case .isIn(let operands): return ("in", .array(operands))
        case .greaterThan(let bound): return ("greaterThan", Self.json(bound))
        case .lessThan(let bound): return ("lessThan", Self.json(bound))
        case .exists(let wanted): return ("exists", .bool(wanted))
        }
    }

    private static func json(_ number: Double) -> JSONValue {
        Int64(exactly: number).map(JSONValue.int) ?? .double(number)
    }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return nil
        }
    }

    /// JSON equality, except that numbers compare by value at every depth.
    private static func same(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.int, .double), (.double, .int), (.double, .double):
            return number(left) == number(right)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
        default:
            return left == right
        }
    }
}

/// A dotted path into a node's result (`"files"`, `"report.rows.0"`): object keys, or array indexes for arrays.
enum FlowValuePath {
    /// The components of a dotted path; `""` is the value itself.
    static func components(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The value at `path` inside `value`, or `nil` when the path leads nowhere.
    static func follow(_ path: [String], in value: JSONValue) -> JSONValue? {
        var current = value
        for component in path {
            switch current {
            case .object(let members):
                guard let next = members[component] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Int(component), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}
