import Crypto
import Foundation

/// The keys that encrypt and decrypt job fields: AES-256-GCM, one or more keys, each with an id.
///
/// The first key encrypts; every key decrypts, so keys can be rotated: put the new key first and keep the old ones
/// until no stored job uses them. An encrypted field is stored as an envelope any language can read (see
/// ``FieldEnvelope``):
///
/// ```json
/// {"$enc": "A256GCM", "kid": "k1", "iv": "<base64, 12 bytes>", "ct": "<base64 of ciphertext + 16-byte tag>"}
/// ```
///
/// The plaintext is the JSON text of the field's value (UTF-8); the additional authenticated data is the field's
/// dotted path inside the job's data (`card.number`), or `returnvalue` for a result, so an envelope copied to
/// another field does not decrypt.
///
/// ```swift
/// let cipher = try FieldCipher.fromEnvironment()  // TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE
///     ?? FieldCipher(keys: [FieldCipher.Key(id: "k1", base64: secret)])
/// let queue = try Queue("payments", client: client, cipher: cipher)
/// try await queue.add("charge", data: ["card": ["number": "4111…"]], options: .init(encrypt: ["card.number"]))
/// ```
public struct FieldCipher: Sendable {
    /// One AES-256 key and its id.
    public struct Key: Sendable {
        /// The key id stored in each envelope (`kid`): non-empty, without ':', ',' or whitespace.
        public let id: String
        /// The key's bytes (swift-crypto's `SymmetricKey` is not `Sendable`; one is made per use).
        private let bytes: [UInt8]
        var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

        /// Creates a key from its 32 bytes.
        ///
        /// - Parameters:
        ///   - id: the key id (`kid`): non-empty, without ':', ',' or whitespace.
        ///   - bytes: the 32 bytes of the AES-256 key.
        /// - Throws: ``FieldCipherError`` `invalidKey` when the id or the length is wrong.
        public init(id: String, bytes: some Collection<UInt8>) throws {
            if let problem = Self.problem(withId: id) { throw FieldCipherError(.invalidKey, problem, keyId: id) }
            guard bytes.count == 32 else {
                throw FieldCipherError(.invalidKey, "key '\(id)' has \(bytes.count) bytes; an AES-256 key has 32 "
                    + "(make one with: head -c 32 /dev/urandom | base64)", keyId: id)
            }
            self.id = id
            self.bytes = Array(bytes)
        }

        /// Creates a key from the base64 of its 32 bytes.
        ///
        /// - Parameters:
        ///   - id: the key id (`kid`): non-empty, without ':', ',' or whitespace.
        ///   - base64: the key's 32 bytes in standard base64 (with or without padding).
        /// - Throws: ``FieldCipherError`` `invalidKey` when the text is not base64 of 32 bytes.
        public init(id: String, base64: String) throws {
            guard let bytes = FieldEnvelope.decodeBase64(base64) else {
                throw FieldCipherError(.invalidKey, "key '\(id)' is not valid base64 (make one with: head -c 32 "
                    + "/dev/urandom | base64)", keyId: id)
            }
            try self.init(id: id, bytes: bytes)
        }

        static func problem(withId id: String) -> String? {
            if id.isEmpty { return "a key id must not be empty" }
            if id.contains(where: { $0 == ":" || $0 == "," || $0.isWhitespace }) {
                return "key id '\(id)' must not contain ':', ',' or whitespace"
            }
            return nil
        }
    }

    /// The keys, the encrypting one first.
    public let keys: [Key]

    /// The id of the key that encrypts (the first one).
    public var encryptionKeyId: String { keys[0].id }

    /// The ids of every key, the encrypting one first.
    public var keyIds: [String] { keys.map(\.id) }

    /// Creates a cipher from keys: the first encrypts, all decrypt.
    ///
    /// - Parameters:
    ///   - keys: one or more keys with distinct ids.
    /// - Throws: ``FieldCipherError`` `invalidKey` when the list is empty or repeats an id.
    public init(keys: [Key]) throws {
        guard !keys.isEmpty else { throw FieldCipherError(.invalidKey, "a FieldCipher needs at least one key") }
        var seen = Set<String>()
        for key in keys where !seen.insert(key.id).inserted {
            throw FieldCipherError(.invalidKey, "key id '\(key.id)' is given twice; every key needs its own id", keyId: key.id)
        }
        self.keys = keys
    }

    /// Reads keys written as `kid1:BASE64,kid2:BASE64` (the format of `TRIBUTARY_KEYS` and of the file
    /// `TRIBUTARY_KEYS_FILE` names). Entries may also be separated by newlines; blank entries are ignored.
    ///
    /// - Parameters:
    ///   - text: the key list.
    ///   - source: where the text came from, for messages (`TRIBUTARY_KEYS`, a file name).
    /// - Throws: ``FieldCipherError`` `invalidKey` naming the entry that is wrong, never its secret.
    public init(parsing text: String, source: String = "TRIBUTARY_KEYS") throws {
        var keys: [Key] = []
        let entries = text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (index, entry) in entries.enumerated() {
            guard let colon = entry.firstIndex(of: ":") else {
                throw FieldCipherError(.invalidKey, "\(source): entry \(index + 1) is not 'kid:BASE64' (no ':'); write "
                    + "keys as kid1:BASE64,kid2:BASE64")
            }
            let id = String(entry[..<colon])
            do {
                keys.append(try Key(id: id, base64: String(entry[entry.index(after: colon)...])))
            } catch let error as FieldCipherError {
                throw FieldCipherError(error.code, "\(source): \(error.message)", keyId: error.keyId)
            }
        }
        guard !keys.isEmpty else {
            throw FieldCipherError(.invalidKey, "\(source) holds no key; write keys as kid1:BASE64,kid2:BASE64")
        }
        do {
            try self.init(keys: keys)
        } catch let error as FieldCipherError {
            throw FieldCipherError(error.code, "\(source): \(error.message)", keyId: error.keyId)
        }
    }

    /// The keys the environment configures: `TRIBUTARY_KEYS` (`kid1:BASE64,kid2:BASE64`), else the file that
    /// `TRIBUTARY_KEYS_FILE` names (same format); `nil` when neither is set (or both are empty).
    ///
    /// - Parameters:
    ///   - environment: the variables to read (the process's by default).
    /// - Throws: ``FieldCipherError`` `invalidKey` or `unreadableKeyFile` when a variable is set but unusable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FieldCipher? {
        if let text = environment["TRIBUTARY_KEYS"], !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return try FieldCipher(parsing: text, source: "TRIBUTARY_KEYS")
        }
        guard let path = environment["TRIBUTARY_KEYS_FILE"], !path.isEmpty else { return nil }
        guard let contents = FileManager.default.contents(atPath: path), let text = String(data: contents, encoding: .utf8) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read as UTF-8 text" : "no such file"
            throw FieldCipherError(.unreadableKeyFile, "TRIBUTARY_KEYS_FILE=\(path): \(reason)")
        }
        return try FieldCipher(parsing: text, source: "TRIBUTARY_KEYS_FILE \(path)")
    }

    /// Encrypts a value with the first key into an envelope (see ``FieldEnvelope``).
    ///
    /// - Parameters:
    ///   - value: the field's value; its JSON text is what is encrypted.
    ///   - path: the field's dotted path inside the job's data (`card.number`), or `returnvalue` for a result:
    ///     the additional authenticated data, which decryption must be given again.
    /// - Returns: the envelope, as stored in place of the value.
    public func seal(_ value: JSONValue, path: String) throws -> JSONValue {
        try seal(value, path: path, nonce: AES.GCM.Nonce())
    }

    /// ``seal(_:path:)`` with a given 12-byte nonce (tests).
    func seal(_ value: JSONValue, path: String, iv: [UInt8]) throws -> JSONValue {
        try seal(value, path: path, nonce: AES.GCM.Nonce(data: iv))
    }

    private func seal(_ value: JSONValue, path: String, nonce: AES.GCM.Nonce) throws -> JSONValue {
        let key = keys[0]
        let box = try AES.GCM.seal(Array(value.serialized().utf8), using: key.symmetricKey, nonce: nonce,
                                   authenticating: Array(path.utf8))
        let envelope = FieldEnvelope(keyId: key.id, iv: Array(box.nonce), ciphertextAndTag: Array(box.ciphertext) + Array(box.tag))
        return envelope.json
    }

    /// Decrypts an envelope back into the value it holds.
    ///
    /// - Parameters:
    ///   - envelope: the stored envelope (`{"$enc": "A256GCM", "kid", "iv", "ct"}`).
    ///   - path: the dotted path the field was encrypted under (`returnvalue` for a result).
    /// - Throws: ``FieldCipherError``: `malformedEnvelope`, `unknownKeyId` (naming the key id), or
    ///   `decryptionFailed` (tampered, moved to another path, or a different key under the same id).
    public func open(_ envelope: JSONValue, path: String) throws -> JSONValue {
        let parsed = try FieldEnvelope(envelope, path: path)
        guard let key = keys.first(where: { $0.id == parsed.keyId }) else {
            throw FieldCipherError(.unknownKeyId, "field '\(path)' is encrypted with key '\(parsed.keyId)', which is not "
                + "among this process's keys (\(keyIds.joined(separator: ", "))); add key '\(parsed.keyId)' to "
                + "TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE", keyId: parsed.keyId)
        }
        let plaintext: Data
        do {
            let ciphertext = parsed.ciphertextAndTag.dropLast(16), tag = parsed.ciphertextAndTag.suffix(16)
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: parsed.iv), ciphertext: ciphertext, tag: tag)
            plaintext = try AES.GCM.open(box, using: key.symmetricKey, authenticating: Array(path.utf8))
        } catch {
            throw FieldCipherError(.decryptionFailed, "field '\(path)' does not decrypt with key '\(parsed.keyId)': it "
                + "was changed, copied from another field, or encrypted with another key of that id", keyId: parsed.keyId)
        }
        do {
            return try JSONValue.parse(bytes: plaintext, source: path)
        } catch {
            throw FieldCipherError(.malformedEnvelope, "field '\(path)' decrypts to text that is not JSON: \(error)",
                                   keyId: parsed.keyId)
        }
    }
}
