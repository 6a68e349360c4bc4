import Foundation
import Tributary

/// Keeps Redis passwords out of process listings (`ps`, `/proc/PID/cmdline`).
enum ProcessListing {
    /// Overwrites, in this process's own argument memory, the password of every Redis URL given on the command line
    /// (`--redis redis://user:PASS@host`, `--redis=…`, or any argument holding `://`). The parser reads
    /// `CommandLine.arguments`, a copy taken here first, so it still sees the real URL. Call it before anything else.
    ///
    /// The redacted text (`redis://user:***@host`) is written over the original and the rest of the argument is
    /// filled with NUL bytes; when the redacted text would be longer (a password under 3 characters), the whole
    /// argument is overwritten with `*`.
    static func hidePasswords() {
        let arguments = CommandLine.arguments  // the parser's copy, taken before the memory is changed
        for index in arguments.indices.dropFirst() {
            let argument = arguments[index]
            let isURL = argument.contains("://") || argument.hasPrefix("--redis=") || arguments[index - 1] == "--redis"
            guard isURL, let pointer = CommandLine.unsafeArgv[index] else { continue }
            let redacted = argument.hasPrefix("--redis=")
                ? "--redis=" + RedisConfiguration.redacted(url: String(argument.dropFirst("--redis=".count)))
                : RedisConfiguration.redacted(url: argument)
            guard redacted != argument else { continue }
            let length = strlen(pointer)
            let bytes = Array(redacted.utf8)
            pointer.withMemoryRebound(to: UInt8.self, capacity: length) { memory in
                if bytes.count <= length {
                    for offset in 0..<length { memory[offset] = offset < bytes.count ? bytes[offset] : 0 }
                } else {
                    for offset in 0..<length { memory[offset] = UInt8(ascii: "*") }
                }
            }
        }
    }
}
