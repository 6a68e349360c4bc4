/// The paths of encrypted fields (`card.number`): dot-separated member names inside a job's data; inside an array,
/// a segment that is a number picks an element (`items.0`).
enum EncryptedFieldPaths {
    /// The path, and additional authenticated data, of an encrypted result.
    static let result = "returnvalue"

    /// Why `path` cannot name a field to encrypt, or `nil` when it can.
    static func problem(with path: String) -> String? {
        if path.isEmpty { return "a path to encrypt must not be empty" }
        if path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return "path '\(path)' has an empty segment; write member names separated by single dots, e.g. card.number"
        }
        return nil
    }

    /// Whether one of the two paths is the other or lies inside it (`card` and `card.number`).
    static func overlap(_ first: String, _ second: String) -> Bool {
        first == second || first.hasPrefix(second + ".") || second.hasPrefix(first + ".")
    }

    /// Checks a list of paths: each well formed, none inside another.
    ///
    /// - Throws: ``FieldCipherError`` `invalidPath` naming the path.
    static func validate(_ paths: [String]) throws {
        for (index, path) in paths.enumerated() {
            if let problem = problem(with: path) { throw FieldCipherError(.invalidPath, problem) }
            if let other = paths[..<index].first(where: { overlap($0, path) }) {
                throw FieldCipherError(.invalidPath, other == path ? "path '\(path)' is given twice"
                    : "paths '\(other)' and '\(path)' overlap: encrypting the outer one covers the inner one; keep one")
            }
        }
    }
}

extension JSONValue {
    /// The value at a dotted path of object members (array elements by index), or `nil`.
    func value(atFieldPath path: String) -> JSONValue? {
        var current = self
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .object(let object):
                guard let next = object[String(segment)] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(segment), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// This value with `transform` applied to the member at `segments` (which must exist).
    private func replacing(at segments: ArraySlice<Substring>, _ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONValue {
        guard let first = segments.first else { return try transform(self) }
        switch self {
        case .object(var object):
            guard let member = object[String(first)] else { return self }
            object[String(first)] = try member.replacing(at: segments.dropFirst(), transform)
            return .object(object)
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { return self }
            items[index] = try items[index].replacing(at: segments.dropFirst(), transform)
            return .array(items)
        default:
            return self
        }
    }

    /// This data with the fields at `paths` replaced by envelopes sealed with `cipher`.
    ///
    /// - Parameters:
    ///   - paths: dotted paths of object members (validated here).
    ///   - cipher: the keys; the first encrypts.
    ///   - what: the job, for messages (`job 'charge'`, `flow node 'pay'`).
    ///   - skipMissing: leave out paths the data does not have (a flow file's top-level `encrypt`), instead of
    ///     failing.
    /// - Throws: ``FieldCipherError`` `invalidPath` or `missingField` naming the path; nothing is changed.
    func encryptingFields(_ paths: [String], with cipher: FieldCipher, what: String, skipMissing: Bool = false) throws -> JSONValue {
        do {
            try EncryptedFieldPaths.validate(paths)
        } catch let error as FieldCipherError {
            throw FieldCipherError(error.code, "\(what): \(error.message)")
        }
        var result = self
        for path in paths {
            guard let value = result.value(atFieldPath: path) else {
                if skipMissing { continue }
                throw FieldCipherError(.missingField, "\(what): the field '\(path)' to encrypt is not in its data (a "
                    + "path names object members separated by dots); give it in the data or remove it from encrypt")
            }
            if FieldEnvelope.isEnvelope(value) { continue }  // already encrypted (e.g. by another producer)
            let envelope = try cipher.seal(value, path: path)
            result = result.replacing(at: path.split(separator: ".", omittingEmptySubsequences: false)[...]) { _ in envelope }
        }
        return result
    }

    /// Whether an encrypted field (an object with `$enc`) occurs anywhere in the value.
    public var containsEncryptedFields: Bool {
        switch self {
        case .null, .bool, .int, .double, .string: return false
        case .array(let items): return items.contains { $0.containsEncryptedFields }
        case .object(let members):
            return members[FieldEnvelope.marker] != nil || members.values.contains { $0.containsEncryptedFields }
        }
    }

    /// This data with every encrypted field decrypted, each under its own path (`card.number`; array elements by
    /// index, `items.0`). Envelopes inside a decrypted value are decrypted too.
    ///
    /// - Parameters:
    ///   - cipher: the keys; `nil` when none are configured (any envelope then fails with `unknownKeyId`).
    ///   - path: the path of this value (`""` for the data itself).
    /// - Throws: ``FieldCipherError`` for the first field that does not decrypt, naming its path and key id.
    func decryptingFields(with cipher: FieldCipher?, path: String = "") throws -> JSONValue {
        var paths: [String] = []
        return try decryptingFields(with: cipher, path: path, found: &paths)
    }

    /// ``decryptingFields(with:path:)``, appending the path of each envelope opened to `found` (outermost first).
    func decryptingFields(with cipher: FieldCipher?, path: String = "", found: inout [String]) throws -> JSONValue {
        func child(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
        switch self {
        case .null, .bool, .int, .double, .string:
            return self
        case .array(let items):
            guard containsEncryptedFields else { return self }
            var result: [JSONValue] = []
            for (index, item) in items.enumerated() {
                result.append(try item.decryptingFields(with: cipher, path: child(String(index)), found: &found))
            }
            return .array(result)
        case .object(let members):
            if members[FieldEnvelope.marker] != nil {
                found.append(path)
                var inner: [String] = []  // envelopes inside: covered by this one when sealed again
                return try Self.open(self, path: path, cipher: cipher).decryptingFields(with: cipher, path: path, found: &inner)
            }
            guard containsEncryptedFields else { return self }
            var result = members
            for (key, value) in members where value.containsEncryptedFields {
                result[key] = try value.decryptingFields(with: cipher, path: child(key), found: &found)
            }
            return .object(result)
        }
    }

    /// A result as stored, decrypted when it is an envelope (path `returnvalue`); the items of a map node's result
    /// (an array of item results) are decrypted one by one.
    func decryptingResult(with cipher: FieldCipher?) throws -> JSONValue {
        switch self {
        case .object(let members) where members[FieldEnvelope.marker] != nil:
            return try Self.open(self, path: EncryptedFieldPaths.result, cipher: cipher).decryptingResult(with: cipher)
        case .array(let items) where containsEncryptedFields:
            return .array(try items.map { try $0.decryptingResult(with: cipher) })
        default:
            return self
        }
    }

    /// The value with every encrypted field drawn as its placeholder (`"<encrypted A256GCM kid=k1>"`), for
    /// `job show`, `flow show` and other views of a job; malformed envelopes are drawn as
    /// `"<encrypted, malformed>"`.
    public func redactingEncryptedFields() -> JSONValue {
        switch self {
        case .null, .bool, .int, .double, .string: return self
        case .array(let items): return containsEncryptedFields ? .array(items.map { $0.redactingEncryptedFields() }) : self
        case .object(let members):
            if members[FieldEnvelope.marker] != nil {
                return .string((try? FieldEnvelope(self, path: ""))?.placeholder ?? "<encrypted, malformed>")
            }
            return containsEncryptedFields ? .object(members.mapValues { $0.redactingEncryptedFields() }) : self
        }
    }

    private static func open(_ envelope: JSONValue, path: String, cipher: FieldCipher?) throws -> JSONValue {
        guard let cipher else {
            let parsed = try FieldEnvelope(envelope, path: path)
            throw FieldCipherError(.unknownKeyId, "field '\(path)' is encrypted with key '\(parsed.keyId)' and this "
                + "process has no keys: set TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE (or give a FieldCipher) with key "
                + "'\(parsed.keyId)'", keyId: parsed.keyId)
        }
        return try cipher.open(envelope, path: path)
    }
}
