import NIOCore
import Testing
@testable import Tributary

@Suite("RESP encoding and decoding")
struct RedisProtocolTests {
    @Test("a command encodes as a RESP array of bulk strings")
    func encodesCommand() {
        var buffer = ByteBuffer()
        RedisCommand("SET", "kéy", .bytes([0, 255]), 42, .double(0.5)).encode(into: &buffer)
        var expectedBytes = Array("*5\r\n$3\r\nSET\r\n$4\r\nkéy\r\n$2\r\n".utf8)
        expectedBytes += [0, 255]
        expectedBytes += Array("\r\n$2\r\n42\r\n$3\r\n0.5\r\n".utf8)
        #expect(buffer.readableBytesView.elementsEqual(expectedBytes))
    }

    @Test("blocking commands are recognised, XREAD only with BLOCK")
    func blockingCommands() {
        #expect(RedisCommand("bzpopmin", "k", 1).isBlocking)
        #expect(RedisCommand("BLPOP", "k", 0).isBlocking)
        #expect(RedisCommand("XREAD", "BLOCK", 100, "STREAMS", "s", "$").isBlocking)
        #expect(!RedisCommand("XREAD", "COUNT", 10, "STREAMS", "s", "0").isBlocking)
        #expect(!RedisCommand("GET", "k").isBlocking)
    }

    @Test("the reader decodes every reply type, fed one byte at a time")
    func readerDecodesAllTypes() throws {
        let wire = "+OK\r\n-ERR boom\r\n:-42\r\n$5\r\nhe\0lo\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n$0\r\n\r\n"
        let reader = HiredisReader()
        var replies: [RESPValue] = []
        for byte in wire.utf8 {
            try reader.feed(ByteBuffer(bytes: [byte]))
            while let reply = try reader.nextReply() { replies.append(reply) }
        }
        #expect(replies == [
            .simpleString("OK"),
            .error(RedisServerError(message: "ERR boom")),
            .integer(-42),
            .bulkString(Array("he\0lo".utf8)),
            .null,
            .null,
            .array([]),
            .array([.integer(1), .array([.bulkString([97]), .array([])]), .bulkString([])]),
        ])
        #expect(replies[1] != .null)
    }

    @Test("nesting beyond the reader's limit is a protocol error, and the reader stays broken")
    func readerNestingLimit() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 10) + ":1\r\n"))
        #expect(throws: HiredisReader.ReadError.self) { try reader.nextReply() }
        #expect(throws: HiredisReader.ReadError.self) { try reader.nextReply() }
        // Seven levels are fine.
        let healthy = HiredisReader()
        try healthy.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 7) + ":1\r\n"))
        var value = try #require(try healthy.nextReply())
        var depth = 0
        while case .array(let inner) = value { depth += 1; value = inner[0] }
        #expect(depth == 7 && value == .integer(1))
    }

    @Test("a malformed reply is a protocol error")
    func readerRejectsGarbage() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: HiredisReader.ReadError.self) { try reader.nextReply() }
    }

    @Test("SHA-1 matches the known digests Redis uses for scripts")
    func sha1() {
        #expect(SHA1.hexDigest("".utf8) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hexDigest("abc".utf8) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
            == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hexDigest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(RedisScript(source: "return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }

    @Test("reconnect delays follow BullMQ: e^n ms clamped to 1 s ... 20 s")
    func reconnectDelays() {
        let policy = RedisConfiguration.ReconnectPolicy()
        #expect(policy.delay(forAttempt: 1) == .seconds(1))
        #expect(policy.delay(forAttempt: 7) == .milliseconds(1096))
        #expect(policy.delay(forAttempt: 9) == .milliseconds(8103))
        #expect(policy.delay(forAttempt: 10) == .seconds(20))
        #expect(policy.delay(forAttempt: 500) == .seconds(20))
        let fast = RedisConfiguration.ReconnectPolicy(minimumDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
        #expect(fast.delay(forAttempt: 1) == .milliseconds(10))
        #expect(fast.delay(forAttempt: 4) == .milliseconds(50))
    }
}
