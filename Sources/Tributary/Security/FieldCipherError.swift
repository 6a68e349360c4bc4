/// Why a field could not be encrypted or decrypted, or why keys could not be read.
///
/// Every message names what is wrong (the key id, the field path, the variable) and what to do about it.
public struct FieldCipherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for programs that branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A key is not 32 bytes of base64, its id is empty or repeated, or the key list is empty or malformed.
        public static let invalidKey = Code("invalidKey")
        /// `TRIBUTARY_KEYS_FILE` names a file that cannot be read.
        public static let unreadableKeyFile = Code("unreadableKeyFile")
        /// An encrypted field names a key id the cipher does not have (or no cipher is configured at all).
        public static let unknownKeyId = Code("unknownKeyId")
        /// The ciphertext, its tag or its path (the additional authenticated data) does not match the key: the
        /// field was tampered with, moved to another path, or encrypted with another key of the same id.
        public static let decryptionFailed = Code("decryptionFailed")
        /// A value has a `$enc` member but is not a complete `A256GCM` envelope (`kid`, `iv`, `ct` strings).
        public static let malformedEnvelope = Code("malformedEnvelope")
        /// A path to encrypt is empty, has an empty segment, or overlaps another path.
        public static let invalidPath = Code("invalidPath")
        /// A path to encrypt is not in the job's data (or goes through a value that is not an object).
        public static let missingField = Code("missingField")
        /// Encryption was asked for but no keys are configured.
        public static let noKeys = Code("noKeys")
    }

    /// What went wrong.
    public let code: Code
    /// What is wrong and what to do about it.
    public let message: String
    /// The key id concerned, when there is one.
    public let keyId: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: what went wrong.
    ///   - message: what is wrong and what to do about it.
    ///   - keyId: the key id concerned, if any.
    public init(_ code: Code, _ message: String, keyId: String? = nil) {
        self.code = code
        self.message = message
        self.keyId = keyId
    }

    public var description: String { message }
}
