/// The location of a value inside a flow file, printed the way people write it: `nodes.publish.opts.priority`,
/// `children[2].opts`, `nodes["a.b"].needs[0]`.
struct FlowPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    private(set) var components: [Component] = []

    /// The top level of the document.
    static let root = FlowPath()

    /// This path extended by an object key.
    func key(_ name: String) -> FlowPath {
        var path = self
        path.components.append(.key(name))
        return path
    }

    /// This path extended by an array index.
    func index(_ position: Int) -> FlowPath {
        var path = self
        path.components.append(.index(position))
        return path
    }

    /// Keys made only of letters, digits, '_' and '-' are joined with dots; any other key is written as a quoted
    /// JSON string in brackets, so that ids containing dots or spaces stay unambiguous.
    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let name) where Self.isPlain(name):
                text += text.isEmpty ? name : ".\(name)"
            case .key(let name):
                text += "[\(JSONValue.string(name).serialized())]"
            case .index(let position):
                text += "[\(position)]"
            }
        }
        return text
    }

    private static func isPlain(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-": return true
            default: return false
            }
        }
    }
}

/// The problems found so far in one file.
struct FlowProblems: Sendable {
    let source: String
    private(set) var list: [FlowFileProblem] = []

    init(source: String) {
        self.source = source
    }

    var isEmpty: Bool { list.isEmpty }

    /// Records a semantic problem about the value at `path`.
    mutating func add(_ code: FlowFileProblem.Code, at path: FlowPath, node: String? = nil, _ message: String) {
        list.append(FlowFileProblem(code, message, source: source, path: path.description, node: node))
    }

    /// Records a problem with a text position.
    mutating func add(_ code: FlowFileProblem.Code, line: Int, column: Int, _ message: String) {
        list.append(FlowFileProblem(code, message, source: source, line: line, column: column))
    }

    /// The error for everything recorded.
    var error: FlowFileError { FlowFileError(source: source, problems: list) }
}

extension JSONValue {
    /// The kind of value, for messages: "a string", "an integer", "an object", …
    var kindForMessage: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int: return "an integer"
        case .double: return "a number with a fraction"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value as a short quotation for messages: strings in single quotes, numbers and literals as written,
    /// arrays and objects by kind only.
    var quotedForMessage: String {
        switch self {
        case .string(let text): return "'\(text)'"
        case .int, .double, .bool, .null: return serialized()
        case .array, .object: return kindForMessage
        }
    }
}
