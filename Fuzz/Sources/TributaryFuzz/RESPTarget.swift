import NIOCore
@testable import Tributary

extension FuzzTarget {
    /// Bytes from a Redis server → replies, through the same hiredis reader the connections use.
    ///
    /// The first input byte picks how the rest is cut into reads (TCP delivers a stream in arbitrary pieces); the
    /// replies, and whether and how the stream fails, must not depend on the cut: fed whole, fed in the pieces the
    /// byte picks, and (for short inputs) fed one byte at a time, the reader must produce the same replies and end
    /// in the same state.
    static let resp = FuzzTarget(
        name: "resp",
        summary: "RESP bytes -> HiredisReader replies; whole, in random chunks and byte by byte must agree"
    ) { input in
        var reader = FuzzReader(input)
        let seed = reader.byte()
        let stream = Array(reader.rest)
        let whole = readReplies(stream, pieceSizes: [stream.count])
        let chunked = readReplies(stream, pieceSizes: PieceSizes(seed: seed))
        guard whole == chunked else {
            violated("replies depend on how the bytes arrive (seed \(seed)):\n whole:   \(whole)\n chunked: \(chunked)\n input: \(printable(stream))")
        }
        if stream.count <= 512 {
            let byteByByte = readReplies(stream, pieceSizes: repeatElement(1, count: stream.count))
            guard whole == byteByByte else {
                violated("replies differ when fed byte by byte:\n whole: \(whole)\n bytes: \(byteByByte)\n input: \(printable(stream))")
            }
        }
    }
}

/// What a reader made of a byte stream: the complete replies, then the protocol error that stopped it, if any.
struct ReplyTranscript: Equatable, CustomStringConvertible {
    var replies: [RESPValue] = []
    var failure: String?

    var description: String {
        "\(replies.count) replies \(replies.map(\.description))" + (failure.map { ", then error: \($0)" } ?? "")
    }
}

/// Feeds `stream` to a fresh reader in pieces of the given sizes (the last piece takes what is left), taking every
/// complete reply after each piece, as the connection's channel handler does.
func readReplies(_ stream: [UInt8], pieceSizes: some Sequence<Int>) -> ReplyTranscript {
    let reader = HiredisReader()
    var transcript = ReplyTranscript()
    var offset = 0
    var sizes = pieceSizes.makeIterator()
    while offset < stream.count {
        let size = max(1, min(sizes.next() ?? stream.count, stream.count - offset))
        let buffer = ByteBuffer(bytes: stream[offset..<(offset + size)])
        offset += size
        do {
            try reader.feed(buffer)
            while let reply = try reader.nextReply() {
                transcript.replies.append(reply)
            }
        } catch {
            transcript.failure = error.description
            return transcript
        }
    }
    return transcript
}

/// Piece sizes from 1 to 64 drawn from a small xorshift generator seeded by one input byte.
struct PieceSizes: Sequence, IteratorProtocol {
    private var state: UInt32

    init(seed: UInt8) {
        state = 0x9E37_79B9 ^ UInt32(seed) &* 0x0101_0101
    }

    mutating func next() -> Int? {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Int(state % 64) + 1
    }
}
