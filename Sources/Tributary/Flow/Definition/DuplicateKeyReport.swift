/// Rewords jansson's "duplicate object key near '"merge"'" into a message that says which key was repeated and
/// where: "duplicate node id 'merge'", or "duplicate key 'delay' in nodes.a.opts". The line and column stay
/// jansson's.
struct DuplicateKeyReport {
    /// The reworded message.
    let message: String

    /// `nil` when `error` is not about a repeated key.
    init?(error: JSONParseError, text: [UInt8]) {
        let marker = "duplicate object key near '"
        guard error.message.hasPrefix(marker), error.message.hasSuffix("'"),
              let key = try? JSONValue.parse(String(error.message.dropFirst(marker.count).dropLast())).stringValue
        else { return nil }
        let container = Self.containerPath(in: text, upTo: error.position)
        if container.components == [.key("nodes")] {
            message = "duplicate node id '\(key)': each node id may appear only once in \"nodes\""
        } else if container.components.isEmpty {
            message = "duplicate top-level key '\(key)'"
        } else {
            message = "duplicate key '\(key)' in \(container)"
        }
    }

    private enum Frame {
        case object(key: String?, expectingKey: Bool)
        case array(index: Int)
    }

    /// The path of the object being read at byte `position` of `text`. The text before `position` is valid JSON
    /// so far (jansson stopped at the repeated key), so a light scan of brackets, commas, colons and strings is
    /// enough.
    static func containerPath(in text: [UInt8], upTo position: Int) -> FlowPath {
        var frames: [Frame] = []
        var offset = 0
        let end = min(position, text.count)
        while offset < end {
            let byte = text[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "{"): frames.append(.object(key: nil, expectingKey: true))
            case UInt8(ascii: "["): frames.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = frames.popLast()
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                switch frames.last {
                case .array(let index): frames[frames.count - 1] = .array(index: index + 1)
                case .object(let key, _): frames[frames.count - 1] = .object(key: key, expectingKey: byte == UInt8(ascii: ","))
                case nil: break
                }
            case UInt8(ascii: "\""):
                let start = offset - 1
                while offset < text.count, text[offset] != UInt8(ascii: "\"") {
                    offset += text[offset] == UInt8(ascii: "\\") ? 2 : 1
                }
                offset += 1
                if case .object(_, true) = frames.last, offset <= text.count {
                    let key = (try? JSONValue.parse(bytes: text[start..<offset]))?.stringValue
                    frames[frames.count - 1] = .object(key: key, expectingKey: false)
                }
            default: break
            }
        }
        var path = FlowPath.root
        for frame in frames.dropLast() {
            switch frame {
            case .object(let key, _): path = path.key(key ?? "")
            case .array(let index): path = path.index(index)
            }
        }
        return path
    }
}
