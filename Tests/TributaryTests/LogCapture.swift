import Logging
import Synchronization

/// Collects log records so a test can assert what was logged.
final class LogCapture: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
    }

    private let records = Mutex<[Record]>([])

    /// A logger whose records land in this capture.
    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    /// Everything logged so far.
    var all: [Record] { records.withLock { $0 } }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append(Record(level: event.level, message: "\(event.message)"))
        }
    }
}
