import Foundation
import Testing
@testable import Tributary

/// Fixed keys for the encryption tests: 32 bytes each, in base64.
enum TestKeys {
    static let k1 = QueueKeys.base64(Array(0..<32))
    static let k2 = QueueKeys.base64(Array((0..<32).map { UInt8(255 - $0) }))
    static func cipher(_ spec: String = "k1:\(k1)") throws -> FieldCipher { try FieldCipher(parsing: spec) }
}

/// The envelope format (`{"$enc": "A256GCM", kid, iv, ct}`), key lists and rotation.
@Suite("Field cipher")
struct FieldCipherTests {
    @Test("a sealed value opens under the same path, and the envelope has the fixed format")
    func roundTrip() throws {
        let cipher = try TestKeys.cipher()
        let value: JSONValue = ["number": "4111 1111 1111 1111", "cvc": 123, "tags": [1.5, true, .null]]
        let envelope = try cipher.seal(value, path: "card")
        let object = try #require(envelope.objectValue)
        #expect(object.keys == ["$enc", "kid", "iv", "ct"])
        #expect(envelope["$enc"] == "A256GCM" && envelope["kid"] == "k1")
        let iv = try #require(envelope["iv"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(iv.count == 12)
        let ct = try #require(envelope["ct"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(ct.count == value.serialized().utf8.count + 16, "ciphertext as long as the JSON text, plus the tag")
        #expect(!envelope.serialized().contains("4111"))
        #expect(try cipher.open(envelope, path: "card") == value)
        #expect(try cipher.seal(value, path: "card") != envelope, "a fresh nonce every time")
    }

    @Test("a known vector, computed with Python's cryptography (AESGCM): key 0...31, nonce 7 x 12, path as AAD")
    func knownVector() throws {
        let envelope = try TestKeys.cipher().seal("secret", path: "password", iv: Array(repeating: 7, count: 12))
        #expect(envelope == ["$enc": "A256GCM", "kid": "k1", "iv": "BwcHBwcHBwcHBwcH", "ct": "LRnDPx1qo9am5WBe39x4JTJuiYCgnGjy"])
    }

    @Test("an envelope opened under another path fails: the path is authenticated")
    func wrongPathFails() throws {
        let cipher = try TestKeys.cipher()
        let envelope = try cipher.seal("hunter2", path: "password")
        let error = #expect(throws: FieldCipherError.self) { try cipher.open(envelope, path: "username") }
        #expect(error?.code == .decryptionFailed && error?.keyId == "k1")
    }

    @Test("a changed ciphertext or tag fails")
    func tamperedFails() throws {
        let cipher = try TestKeys.cipher()
        let envelope = try cipher.seal("hunter2", path: "password")
        var bytes = try #require(envelope["ct"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init))
        for index in [0, bytes.count - 1] {  // the first ciphertext byte, the last tag byte
            var changed = bytes
            changed[index] ^= 1
            var object = try #require(envelope.objectValue)
            object["ct"] = .string(QueueKeys.base64(changed))
            let error = #expect(throws: FieldCipherError.self) { try cipher.open(.object(object), path: "password") }
            #expect(error?.code == .decryptionFailed)
        }
        bytes.removeAll()
        var object = try #require(envelope.objectValue)
        object["ct"] = ""
        #expect(throws: FieldCipherError.self) { try cipher.open(.object(object), path: "password") }
    }

    @Test("an unknown key id is named in the error, with what to do")
    func unknownKeyId() throws {
        let envelope = try TestKeys.cipher("old:\(TestKeys.k1)").seal(42, path: "pin")
        let error = #expect(throws: FieldCipherError.self) { try TestKeys.cipher("k2:\(TestKeys.k2)").open(envelope, path: "pin") }
        #expect(error?.code == .unknownKeyId && error?.keyId == "old")
        #expect(error?.message.contains("key 'old'") == true && error?.message.contains("TRIBUTARY_KEYS") == true)
    }

    @Test("rotation: the first key encrypts, an old key still decrypts")
    func rotation() throws {
        let before = try TestKeys.cipher("k1:\(TestKeys.k1)")
        let after = try TestKeys.cipher("k2:\(TestKeys.k2),k1:\(TestKeys.k1)")
        let old = try before.seal("card", path: "number")
        #expect(try after.open(old, path: "number") == "card")
        let new = try after.seal("card", path: "number")
        #expect(new["kid"] == "k2" && after.encryptionKeyId == "k2" && after.keyIds == ["k2", "k1"])
        #expect(throws: FieldCipherError.self) { try before.open(new, path: "number") }
    }

    @Test("key lists: entries separated by commas or newlines; bad entries are named without their secret")
    func keyLists() throws {
        #expect(try FieldCipher(parsing: " k1:\(TestKeys.k1) ,\n k2:\(TestKeys.k2)\n").keyIds == ["k1", "k2"])
        let unpadded = String(TestKeys.k1.dropLast())  // 32 bytes in base64 end with one '='
        #expect(try FieldCipher(parsing: "k1:\(unpadded)").keyIds == ["k1"])
        let cases: [(String, String)] = [
            ("", "holds no key"), ("k1", "not 'kid:BASE64'"), ("k1:QUJD", "has 3 bytes"), ("k1:@@@@", "not valid base64"),
            (":\(TestKeys.k1)", "must not be empty"), ("k1:\(TestKeys.k1),k1:\(TestKeys.k2)", "given twice"),
        ]
        for (text, expected) in cases {
            let error = #expect(throws: FieldCipherError.self) { try FieldCipher(parsing: text) }
            #expect(error?.code == .invalidKey)
            #expect(error?.message.contains(expected) == true, "\(text): \(error?.message ?? "")")
            #expect(error?.message.contains(TestKeys.k2) == false)
        }
    }

    @Test("the environment: TRIBUTARY_KEYS, else TRIBUTARY_KEYS_FILE, else no keys")
    func environment() throws {
        #expect(try FieldCipher.fromEnvironment([:]) == nil)
        #expect(try FieldCipher.fromEnvironment(["TRIBUTARY_KEYS": "k1:\(TestKeys.k1)"])?.keyIds == ["k1"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try "k2:\(TestKeys.k2)\nk1:\(TestKeys.k1)\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try FieldCipher.fromEnvironment(["TRIBUTARY_KEYS_FILE": file.path])?.keyIds == ["k2", "k1"])
        let missing = #expect(throws: FieldCipherError.self) {
            try FieldCipher.fromEnvironment(["TRIBUTARY_KEYS_FILE": file.path + ".missing"])
        }
        #expect(missing?.code == .unreadableKeyFile)
    }

    @Test("data: the named fields are sealed under their paths; every envelope is found and opened again")
    func dataFields() throws {
        let cipher = try TestKeys.cipher()
        let data: JSONValue = ["user": "ada", "password": "hunter2", "card": ["number": "4111", "exp": "12/30"]]
        let sealed = try data.encryptingFields(["password", "card.number"], with: cipher, what: "job 'j'")
        #expect(sealed["user"] == "ada" && sealed["card"]?["exp"] == "12/30")
        #expect(FieldEnvelope.isEnvelope(sealed["password"]!) && FieldEnvelope.isEnvelope(sealed["card"]!["number"]!))
        #expect(try cipher.open(sealed["card"]!["number"]!, path: "card.number") == "4111")
        #expect(try sealed.decryptingFields(with: cipher) == data)
        #expect(sealed.redactingEncryptedFields()["password"] == "<encrypted A256GCM kid=k1>")
        let missing = #expect(throws: FieldCipherError.self) {
            try data.encryptingFields(["card.cvc"], with: cipher, what: "job 'j'")
        }
        #expect(missing?.code == .missingField && missing?.message.contains("'card.cvc'") == true)
        #expect(throws: FieldCipherError.self) { try data.encryptingFields(["card", "card.number"], with: cipher, what: "j") }
        #expect(throws: FieldCipherError.self) { try data.encryptingFields(["card..number"], with: cipher, what: "j") }
        let noKeys = #expect(throws: FieldCipherError.self) { try sealed.decryptingFields(with: nil) }
        #expect(noKeys?.code == .unknownKeyId && noKeys?.keyId == "k1")
    }
}
