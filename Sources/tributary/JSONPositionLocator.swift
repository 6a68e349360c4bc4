import Tributary

/// Finds where a value sits in JSON text, by the path a flow-file problem names (`nodes.publish.opts.priority`,
/// `children[2].opts`, `nodes["a.b"].needs[0]`), so `validate` can print `file:line:column` for every problem.
///
/// The position is that of the member's key for object members, of the element for array elements. When the
/// path goes deeper than the text (a missing key), the deepest part that exists is given. The text is assumed to
/// be valid JSON (problems with paths are only found in files that parsed).
struct JSONPositionLocator {
    enum Component: Equatable {
        case key(String)
        case index(Int)
    }

    private let scalars: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]

    init(text: String) {
        scalars = Array(text.unicodeScalars)
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" {
            lineStarts.append(offset + 1)
        }
    }

    /// The 1-based line and column of the value at `path`, or `nil` when the path cannot be read.
    func position(of path: String) -> (line: Int, column: Int)? {
        guard let components = Self.components(of: path) else { return nil }
        var scanner = Scanner(scalars: scalars)
        scanner.skipWhitespace()
        var found = scanner.offset
        for component in components {
            guard let next = scanner.descend(into: component) else { break }
            found = next
        }
        return lineAndColumn(found)
    }

    private func lineAndColumn(_ offset: Int) -> (line: Int, column: Int) {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }

    /// Splits a printed path into keys and indices.
    static func components(of path: String) -> [Component]? {
        var components: [Component] = []
        let characters = Array(path.unicodeScalars)
        var index = 0
        var plain = ""
        func flush() {
            if !plain.isEmpty { components.append(.key(plain)) }
            plain = ""
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case ".":
                flush()
                index += 1
            case "[":
                flush()
                guard let close = Self.closingBracket(characters, from: index) else { return nil }
                let inside = String(String.UnicodeScalarView(characters[(index + 1)..<close]))
                if let number = Int(inside) {
                    components.append(.index(number))
                } else if let key = try? JSONValue.parse(inside), let string = key.stringValue {
                    components.append(.key(string))
                } else {
                    return nil
                }
                index = close + 1
            default:
                plain.unicodeScalars.append(character)
                index += 1
            }
        }
        flush()
        return components
    }

    /// The `]` closing the bracket at `start`, skipping a quoted key's contents.
    private static func closingBracket(_ characters: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start + 1
        var inString = false
        while index < characters.count {
            let character = characters[index]
            if inString {
                if character == "\\" { index += 1 } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            } else if character == "]" {
                return index
            }
            index += 1
        }
        return nil
    }

    /// A cursor over valid JSON text.
    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var offset = 0

        mutating func skipWhitespace() {
            while offset < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[offset]) { offset += 1 }
        }

        /// Moves to the value of `component` in the container at the cursor; returns the offset to report (the
        /// key of a member, the start of an element), or `nil` when it is not there.
        mutating func descend(into component: Component) -> Int? {
            skipWhitespace()
            guard offset < scalars.count else { return nil }
            switch (component, scalars[offset]) {
            case (.key(let wanted), "{"):
                offset += 1
                while true {
                    skipWhitespace()
                    guard offset < scalars.count, scalars[offset] == "\"" else { return nil }
                    let keyStart = offset
                    let key = readString()
                    skipWhitespace()
                    offset += 1  // ':'
                    skipWhitespace()
                    if key == wanted { return keyStart }
                    skipValue()
                    skipWhitespace()
                    guard offset < scalars.count, scalars[offset] == "," else { return nil }
                    offset += 1
                }
            case (.index(let wanted), "["):
                offset += 1
                var position = 0
                while true {
                    skipWhitespace()
                    guard offset < scalars.count, scalars[offset] != "]" else { return nil }
                    if position == wanted { return offset }
                    skipValue()
                    skipWhitespace()
                    guard offset < scalars.count, scalars[offset] == "," else { return nil }
                    offset += 1
                    position += 1
                }
            default:
                return nil
            }
        }

        /// Reads the string at the cursor (which is on its opening quote) and decodes it.
        mutating func readString() -> String {
            let start = offset
            offset += 1
            while offset < scalars.count, scalars[offset] != "\"" {
                offset += scalars[offset] == "\\" ? 2 : 1
            }
            offset += 1
            let literal = String(String.UnicodeScalarView(scalars[start..<min(offset, scalars.count)]))
            return (try? JSONValue.parse(literal))?.stringValue ?? literal
        }

        /// Skips the value at the cursor.
        mutating func skipValue() {
            skipWhitespace()
            guard offset < scalars.count else { return }
            switch scalars[offset] {
            case "\"":
                _ = readString()
            case "{", "[":
                var depth = 0
                repeat {
                    let scalar = scalars[offset]
                    if scalar == "\"" {
                        _ = readString()
                        continue
                    }
                    if scalar == "{" || scalar == "[" { depth += 1 }
                    if scalar == "}" || scalar == "]" { depth -= 1 }
                    offset += 1
                } while depth > 0 && offset < scalars.count
            default:
                while offset < scalars.count, !",]} \t\n\r".unicodeScalars.contains(scalars[offset]) { offset += 1 }
            }
        }
    }
}
