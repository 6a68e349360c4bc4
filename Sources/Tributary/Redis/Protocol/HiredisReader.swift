import CHiredis
import NIOCore

/// Parses RESP bytes into ``RESPValue``s with hiredis's reader. The only Swift code that touches hiredis.
///
/// Not `Sendable`: it owns a C pointer and lives on one NIO event loop, inside one channel handler.
final class HiredisReader {
    /// A failure of the reader itself: malformed RESP or nesting deeper than hiredis supports. The reader stays
    /// in error afterwards, so the connection must be closed.
    struct ReadError: Error, CustomStringConvertible {
        let message: String
        var description: String { "RESP protocol error: \(message)" }
    }

    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reader (out of memory)")
        }
        self.reader = reader
        // Keep up to 64 KiB of idle buffer between feeds instead of hiredis's 16 KiB default.
        CHiredis_readerSetMaxBuffer(reader, 64 * 1024)
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands bytes received from the socket to the reader.
    func feed(_ buffer: ByteBuffer) throws(ReadError) {
        let status = buffer.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if status != REDIS_OK { throw currentError() }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    func nextReply() throws(ReadError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        if redisReaderGetReply(reader, &raw) != REDIS_OK {
            throw currentError()
        }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    private func currentError() -> ReadError {
        if let text = CHiredis_readerError(reader) {
            return ReadError(message: String(cString: text))
        }
        return ReadError(message: "unknown reader error")
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(node.str, node.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(text(node.str, node.len))
        case REDIS_REPLY_ERROR:
            return .error(RedisServerError(message: text(node.str, node.len)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            // `*0` has a NULL element vector.
            guard node.elements > 0, let elements = node.element else { return .array([]) }
            var values: [RESPValue] = []
            values.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                if let child = elements[index] { values.append(convert(child)) } else { values.append(.null) }
            }
            return .array(values)
        default:
            return .null
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> String {
        guard let pointer, count > 0 else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
    }
}
