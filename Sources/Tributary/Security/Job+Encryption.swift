extension Job {
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
        if hasEncryptedData { data = try data.decryptingFields(with: cipher) }
        for (node, value) in inputs where value.containsEncryptedFields {
            do {
                inputs[node] = try value.decryptingResult(with: cipher)
            } catch let error as FieldCipherError {
                throw FieldCipherError(error.code, "the result of needed node '\(node)': \(error.message)", keyId: error.keyId)
            }
        }
    }
}
