/// One thing wrong with a flow file.
///
/// A syntax problem (the text is not JSON, or an object repeats a key) carries the ``line`` and ``column`` jansson
/// reports. A semantic problem carries the JSON ``path`` of the value concerned, such as
/// `nodes.publish.opts.priority` (`""` for the top level), and the ``node`` it belongs to when there is one.
/// ``description`` prints either as one line: `file:line:column: message` or `file: path: message`.
public struct FlowFileProblem: Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is, for programs that branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file could not be read.
        public static let unreadableFile = Code("unreadableFile")
        /// The text is not valid JSON.
        public static let syntax = Code("syntax")
        /// An object has the same key twice, e.g. a repeated node id.
        public static let duplicateKey = Code("duplicateKey")
        /// A required key is absent.
        public static let missingKey = Code("missingKey")
        /// A key the format does not know.
        public static let unknownKey = Code("unknownKey")
        /// A value of the wrong JSON type.
        public static let wrongType = Code("wrongType")
        /// A value of the right type that is not allowed (e.g. an unknown `onFailure`).
        public static let invalidValue = Code("invalidValue")
        /// A flow name, node id or queue name that is empty or contains ':'.
        public static let invalidName = Code("invalidName")
        /// A node has no queue, and the file has no default `queue`.
        public static let missingQueue = Code("missingQueue")
        /// The flow has no nodes.
        public static let emptyFlow = Code("emptyFlow")
        /// `needs` names a node that does not exist.
        public static let unknownDependency = Code("unknownDependency")
        /// A node needs itself.
        public static let selfDependency = Code("selfDependency")
        /// `needs` names the same node twice.
        public static let duplicateDependency = Code("duplicateDependency")
        /// Nodes need each other in a circle.
        public static let cycle = Code("cycle")
        /// A job option has the wrong type or is out of range.
        public static let invalidOption = Code("invalidOption")
        /// A BullMQ job option that flow files do not take (e.g. `repeat`, or the failure options in the native
        /// format, where `onFailure` says the same).
        public static let unsupportedOption = Code("unsupportedOption")
        /// Options that exclude each other are set together.
        public static let conflictingOptions = Code("conflictingOptions")
        /// Two nodes of the same queue ask for the same custom `jobId`.
        public static let duplicateJobId = Code("duplicateJobId")
        /// A `when` condition or a map's `items` reads a node that is not in the node's `needs`.
        public static let inputNotNeeded = Code("inputNotNeeded")
        /// A `when` condition is malformed: two operators in one test, a combinator beside other keys, an empty
        /// `all`/`any`.
        public static let invalidCondition = Code("invalidCondition")
        /// On a Redis Cluster, the flow's queues and records would not share one hash slot (see
        /// ``FlowPlan/clusterProblem(source:prefix:)``).
        public static let crossSlot = Code("crossSlot")
    }

    /// What kind of problem this is.
    public let code: Code
    /// What is wrong, and where possible what to write instead.
    public let message: String
    /// The file (or the name given to in-memory text).
    public let source: String
    /// The 1-based line of a syntax problem; `nil` for semantic problems.
    public let line: Int?
    /// The column (in characters) of a syntax problem; `nil` for semantic problems.
    public let column: Int?
    /// The JSON path of the value a semantic problem is about (`""` for the top level); `nil` for syntax problems.
    public let path: String?
    /// The id of the node a semantic problem is about, when there is one.
    public let node: String?

    /// Creates a problem at a text position (a syntax problem).
    init(_ code: Code, _ message: String, source: String, line: Int, column: Int) {
        self.code = code
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.path = nil
        self.node = nil
    }

    /// Creates a problem about a value of the document (a semantic problem).
    init(_ code: Code, _ message: String, source: String, path: String?, node: String? = nil) {
        self.code = code
        self.message = message
        self.source = source
        self.line = nil
        self.column = nil
        self.path = path
        self.node = node
    }

    /// `file:line:column: message` for syntax problems, `file: path: message` for semantic ones
    /// (`file: message` when the path is the top level).
    public var description: String {
        if let line, let column {
            return "\(source):\(line):\(column): \(message)"
        }
        if let path, !path.isEmpty {
            return "\(source): \(path): \(message)"
        }
        return "\(source): \(message)"
    }
}

/// Everything wrong with a flow file, found before anything is enqueued.
///
/// Validation does not stop at the first problem: a file with a bad option, an unknown dependency and a cycle
/// reports all three. (A syntax error is the exception: nothing after it can be read, so it comes alone.)
public struct FlowFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or the name given to in-memory text).
    public let source: String
    /// Every problem found, in the order the file was checked; never empty.
    public let problems: [FlowFileProblem]

    /// Creates an error from the problems of one file.
    init(source: String, problems: [FlowFileProblem]) {
        self.source = source
        self.problems = problems
    }

    /// One line per problem (see ``FlowFileProblem/description``), separated by newlines.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
