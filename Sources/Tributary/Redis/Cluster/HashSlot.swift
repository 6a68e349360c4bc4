/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16,384.
///
/// A key's hash tag is the text between its first `{` and the first `}` after it, when that text is not empty:
/// `{tributary}:orders:wait` and `{tributary}:invoices:1` share the tag `tributary`, hence one slot, hence one
/// node, which is what lets one script or transaction touch both.
public enum HashSlot {
    /// The number of slots of a Redis Cluster.
    public static let count = 16_384

    /// The slot of `key`.
    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of(bytes: $0) }
    }

    /// The slot of a key given as bytes.
    public static func of<Bytes: Collection>(bytes key: Bytes) -> Int where Bytes.Element == UInt8 {
        let hashed = hashedPart(of: Array(key))
        return Int(crc16(hashed) & UInt16(count - 1))
    }

    /// The hash tag of `key` (without braces), or `nil` when the whole key is hashed.
    public static func tag(of key: String) -> String? {
        let bytes = Array(key.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")),
              let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return nil }
        return String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
    }

    /// The slot shared by every key that starts with `prefix`, whatever follows, or `nil` when what follows can
    /// change the slot (the prefix holds no complete, non-empty hash tag).
    public static func fixedSlot(forKeysStartingWith prefix: String) -> Int? {
        guard tag(of: prefix) != nil else { return nil }
        // The first '{' and the first '}' after it are both inside the prefix: the rest of a key cannot move them.
        return of(prefix)
    }

    private static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT in its XMODEM form (polynomial 0x1021, initial value 0), as the Redis Cluster specification
    /// defines it.
    static func crc16<Bytes: Sequence>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var value = UInt16(index) << 8
        for _ in 0..<8 {
            value = value & 0x8000 != 0 ? (value << 1) ^ 0x1021 : value << 1
        }
        return value
    }
}
