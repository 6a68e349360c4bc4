#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One fuzz target: a name, what it checks, and the check run on each input.
///
/// A check returns normally when the input is handled correctly (rejected with an error, or accepted and every
/// invariant holds) and stops the process with ``violated(_:)`` otherwise, so that libFuzzer records the input.
struct FuzzTarget: Sendable {
    /// The name given on the command line (`flow`, `json`, `resp`, `redis-url`, `cron`).
    let name: String
    /// One line on what the target feeds and checks, for `TributaryFuzz --list`.
    let summary: String
    /// Checks one input.
    let check: @Sendable (UnsafeRawBufferPointer) -> Void

    /// Every target, in the order scripts/fuzz.sh runs them.
    static let all: [FuzzTarget] = [.flow, .json, .resp, .redisURL, .cron]

    /// The target with this name, or `nil`.
    static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// The target the fuzzing driver calls; set once in main before fuzzing starts.
nonisolated(unsafe) var selectedTarget: FuzzTarget?

/// Stops the process because an invariant does not hold; libFuzzer saves the input as a crash file.
func violated(_ message: String) -> Never {
    fatalError("invariant violated: \(message)")
}

/// A short, printable form of some bytes for messages: printable ASCII as is, everything else escaped.
func printable(_ bytes: some Sequence<UInt8>, limit: Int = 400) -> String {
    var text = ""
    for (index, byte) in bytes.enumerated() {
        if index == limit {
            text += "…"
            break
        }
        switch byte {
        case 0x20..<0x7F where byte != UInt8(ascii: "\\"): text.unicodeScalars.append(Unicode.Scalar(byte))
        case UInt8(ascii: "\n"): text += "\\n"
        case UInt8(ascii: "\r"): text += "\\r"
        default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
    }
    return "\"" + text + "\""
}

/// Writes `text` to standard error (unbuffered, unlike `print`).
func printToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(2, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Reads a fuzz input from the front: a few bytes that steer the check (a chunk size, a time zone), then the rest.
struct FuzzReader {
    private(set) var rest: Slice<UnsafeRawBufferPointer>

    init(_ input: UnsafeRawBufferPointer) {
        rest = input[...]
    }

    /// The next byte, or 0 when the input is used up.
    mutating func byte() -> UInt8 {
        rest.popFirst() ?? 0
    }

    /// The next `count` bytes (at most 8) as a little-endian unsigned integer; missing bytes count as 0.
    mutating func integer(bytes count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<min(count, 8) {
            value |= UInt64(byte()) << (8 * UInt64(index))
        }
        return value
    }
}
