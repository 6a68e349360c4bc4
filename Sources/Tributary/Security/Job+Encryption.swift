extension Job {
    /// `data` with the fields the worker decrypted for the handler (``decryptedPaths``) sealed again with the
    /// worker's keys, for ``updateData(_:)``: what a handler stores back stays encrypted. Paths the new data no
    /// longer has are left out.
    func resealingDecryptedFields(_ data: JSONValue) throws -> JSONValue {
        guard !decryptedPaths.isEmpty, let cipher = handle?.queue.cipher else { return data }
        if decryptedPaths == [""] { return try cipher.seal(data, path: "") }  // the whole data was one envelope
        return try data.encryptingFields(decryptedPaths, with: cipher, what: "job \(id)", skipMissing: true)
    }

    /// Inside a handler, stored results (``childrenValues(client:)``) decrypted with the worker's keys.
    func decryptingStoredResults(_ values: [String: JSONValue]) throws -> [String: JSONValue] {
        guard handle != nil, values.values.contains(where: \.containsEncryptedFields) else { return values }
        let cipher = handle?.queue.cipher
        return try values.mapValues { try $0.decryptingResult(with: cipher) }
    }

    /// Whether the job asks for its result to be stored encrypted (the `encryptResult` field, see
    /// ``JobOptions/encryptResult``).
    public var encryptsResult: Bool { fields["encryptResult"] == "1" }

    /// Whether the job's data as stored holds an encrypted field (an object with `$enc`).
    public var hasEncryptedData: Bool {
        // The stored text is searched first: most jobs have no envelope and are not walked.
        guard let text = fields["data"], text.contains("\"\(FieldEnvelope.marker)\"") else { return false }
        return data.containsEncryptedFields
    }

    /// Decrypts the encrypted fields of the data and of the inputs (the results of needed nodes) in place, before
    /// the handler runs.
    ///
    /// - Throws: ``FieldCipherError`` naming the field and key id when one does not decrypt.
    mutating func decryptForHandler(with cipher: FieldCipher?) throws {
        if hasEncryptedData {
            var paths: [String] = []
            data = try data.decryptingFields(with: cipher, found: &paths)
            decryptedPaths = paths
        }
        for (node, value) in inputs where value.containsEncryptedFields {
            do {
                inputs[node] = try value.decryptingResult(with: cipher)
            } catch let error as FieldCipherError {
                throw FieldCipherError(error.code, "the result of needed node '\(node)': \(error.message)", keyId: error.keyId)
            }
        }
    }
}
