#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a flow file into a ``FlowPlan``, checking everything first.
///
/// Two shapes are accepted (docs/flow-file-format.md describes both):
/// - the native format: `{"flow", "queue", "prefix", "defaults", "nodes": {id: node}}`, where a node may need
///   several others and be needed by several;
/// - BullMQ's nested FlowJob shape: `{"name", "queueName", "data", "opts", "children": [...], "prefix"}`, recognised
///   by `queueName` or `children` at the top level without `nodes`.
///
/// Nothing is enqueued here: a plan is only produced when the file has no problem at all, and otherwise every
/// problem found is thrown together in one ``FlowFileError``.
///
/// ```swift
/// let plan = try FlowCompiler.compile(contentsOfFile: "flows/nightly-report.json")
/// for node in plan.nodes { print(node.id, "needs", node.needs) }
/// ```
public enum FlowCompiler {
    /// Reads and compiles the flow file at `path`; problems name the file as given.
    ///
    /// - Throws: ``FlowFileError`` with every problem, including an unreadable file.
    public static func compile(contentsOfFile path: String) throws(FlowFileError) -> FlowPlan {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw FlowFileError(source: path, problems: [
                FlowFileProblem(.unreadableFile, "cannot read the file: \(error.reason)", source: path, path: nil),
            ])
        }
        return try compile(bytes: bytes, source: path)
    }

    /// Compiles flow file text; `source` names it in problems (a path, or something like `<stdin>`).
    ///
    /// - Throws: ``FlowFileError`` with every problem.
    public static func compile(_ text: String, source: String) throws(FlowFileError) -> FlowPlan {
        try compile(bytes: Array(text.utf8), source: source)
    }

    /// Compiles an already parsed flow document; `source` names it in problems. Syntax problems cannot arise, and a
    /// repeated key has already been decided by whoever built the value.
    ///
    /// - Throws: ``FlowFileError`` with every problem.
    public static func compile(_ json: JSONValue, source: String) throws(FlowFileError) -> FlowPlan {
        var problems = FlowProblems(source: source)
        guard let document = json.objectValue else {
            problems.add(.wrongType, at: .root,
                         "a flow file must hold a JSON object (a flow), got \(json.kindForMessage)")
            throw problems.error
        }
        let isBullMQShape = document["nodes"] == nil && (document["queueName"] != nil || document["children"] != nil)
        let draft = isBullMQShape
            ? BullMQFlowReader.read(document, problems: &problems)
            : NativeFlowReader.read(document, problems: &problems)
        let graph = FlowGraph(draft, problems: &problems)
        guard problems.isEmpty, let flow = draft.flow else {
            throw problems.error
        }
        return graph.plan(flow: flow, prefix: draft.prefix)
    }

    /// `bytes` without a leading UTF-8 byte-order mark (EF BB BF), which some editors write and JSON parsers reject.
    public static func withoutByteOrderMark(_ bytes: [UInt8]) -> [UInt8] {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    }

    /// Parses UTF-8 text (a leading byte-order mark is skipped), turning jansson's error into a positioned problem,
    /// then compiles the document.
    private static func compile(bytes: [UInt8], source: String) throws(FlowFileError) -> FlowPlan {
        let bytes = withoutByteOrderMark(bytes)
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes, source: source)
        } catch {
            var problems = FlowProblems(source: source)
            let duplicate = DuplicateKeyReport(error: error, text: bytes)
            problems.add(duplicate == nil ? .syntax : .duplicateKey, line: error.line, column: error.column,
                         duplicate?.message ?? error.message)
            throw problems.error
        }
        return try compile(json, source: source)
    }

    /// Why a file could not be read.
    private struct ReadError: Error {
        let reason: String
    }

    /// The whole file, read with plain POSIX calls (the library does not use Foundation).
    private static func readFile(_ path: String) throws(ReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
    }
}
