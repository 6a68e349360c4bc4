import Foundation

/// An encrypted field as stored: `{"$enc": "A256GCM", "kid": "<key id>", "iv": "<base64>", "ct": "<base64>"}`.
///
/// The format is fixed so that producers and workers in other languages read and write it: `iv` is the 12-byte
/// AES-GCM nonce, `ct` the ciphertext followed by the 16-byte tag, both in standard base64; the plaintext is the
/// UTF-8 JSON text of the field's value and the additional authenticated data its dotted path inside the data
/// (`returnvalue` for a result). Any JSON object with a `$enc` member is taken for an envelope.
public struct FieldEnvelope: Sendable, Hashable {
    /// The only algorithm: AES-256-GCM (`A256GCM`, JOSE's name).
    public static let algorithm = "A256GCM"
    /// The member that marks an envelope.
    public static let marker = "$enc"

    /// The id of the key that encrypted the field (`kid`).
    public let keyId: String
    /// The 12-byte nonce (`iv`).
    public let iv: [UInt8]
    /// The ciphertext followed by the 16-byte tag (`ct`).
    public let ciphertextAndTag: [UInt8]

    init(keyId: String, iv: [UInt8], ciphertextAndTag: [UInt8]) {
        self.keyId = keyId
        self.iv = iv
        self.ciphertextAndTag = ciphertextAndTag
    }

    /// Reads an envelope.
    ///
    /// - Parameters:
    ///   - value: the stored value.
    ///   - path: where it was found, for messages.
    /// - Throws: ``FieldCipherError`` `malformedEnvelope` naming what is missing or wrong.
    public init(_ value: JSONValue, path: String) throws {
        func malformed(_ what: String) -> FieldCipherError {
            FieldCipherError(.malformedEnvelope, "field '\(path)' is not a valid encrypted field: \(what)")
        }
        guard let object = value.objectValue, let algorithm = object[Self.marker] else {
            throw malformed("it is not an object with a '\(Self.marker)' member")
        }
        guard algorithm.stringValue == Self.algorithm else {
            throw malformed("'\(Self.marker)' is \(algorithm.serialized()), expected \"\(Self.algorithm)\"")
        }
        guard let keyId = object["kid"]?.stringValue, !keyId.isEmpty else { throw malformed("'kid' is missing or not a string") }
        guard let iv = object["iv"]?.stringValue.flatMap(Self.decodeBase64), iv.count == 12 else {
            throw malformed("'iv' is not the base64 of 12 bytes")
        }
        guard let ct = object["ct"]?.stringValue.flatMap(Self.decodeBase64), ct.count >= 16 else {
            throw malformed("'ct' is not the base64 of a ciphertext and its 16-byte tag")
        }
        self.init(keyId: keyId, iv: iv, ciphertextAndTag: ct)
    }

    /// The envelope as stored.
    public var json: JSONValue {
        [Self.marker: .string(Self.algorithm), "kid": .string(keyId), "iv": .string(QueueKeys.base64(iv)),
         "ct": .string(QueueKeys.base64(ciphertextAndTag))]
    }

    /// How `job show` and `flow show` draw an encrypted field: `<encrypted A256GCM kid=k1>`.
    public var placeholder: String { "<encrypted \(Self.algorithm) kid=\(keyId)>" }

    /// Whether `value` is an object marked as an envelope (`$enc`), well formed or not.
    public static func isEnvelope(_ value: JSONValue) -> Bool {
        if case .object(let object) = value { return object[marker] != nil }
        return false
    }

    /// Standard base64, with or without padding; `nil` when the text is not base64.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var padded = text.trimmingCharacters(in: .whitespaces)
        if padded.count % 4 != 0 { padded += String(repeating: "=", count: 4 - padded.count % 4) }
        return Data(base64Encoded: padded).map(Array.init)
    }
}
