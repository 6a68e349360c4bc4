/// Random identifiers.
enum RandomID {
    /// 32 random hex digits: the shape of Python bullmq's `uuid4().hex` flow ids; also used for worker ids.
    static func hex32() -> String {
        (0..<4).map { _ in
            let hex = String(UInt32.random(in: .min ... .max), radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined()
    }
}
