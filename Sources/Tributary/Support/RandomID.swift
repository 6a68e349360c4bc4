/// Random identifiers.
enum RandomID {
    /// 32 random hex digits: the shape of Python bullmq's `uuid4().hex` flow ids; also used for worker ids.
    ///
    /// Two 64-bit draws and digits written in place: a flow of 100,000 nodes needs as many ids, and four draws
    /// (one system call each) plus string concatenation per id cost more than storing the node in Redis.
    static func hex32() -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for (offset, word) in [(0, high), (16, low)] {
                for digit in 0..<16 {
                    let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * digit)) & 0xf
                    buffer[offset + digit] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                }
            }
            return 32
        }
    }
}
