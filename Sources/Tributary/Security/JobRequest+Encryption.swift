extension JobRequest {
    /// The request with the fields its options name (``JobOptions/encrypt``) sealed with `cipher`.
    ///
    /// - Parameters:
    ///   - cipher: the producer's keys; `nil` when it has none.
    ///   - what: the job, for messages (`job 'charge'`, `flow node 'pay'`).
    /// - Throws: ``FieldCipherError`` `noKeys` when fields are to be encrypted without keys; `invalidPath` or
    ///   `missingField` naming the path. Nothing is stored.
    func sealed(with cipher: FieldCipher?, what: String) throws -> JobRequest {
        guard !options.encrypt.isEmpty else { return self }
        guard let cipher else {
            throw FieldCipherError(.noKeys, "\(what) asks to encrypt \(options.encrypt.map { "'\($0)'" }.joined(separator: ", ")) "
                + "but no keys are configured: give the Queue or FlowProducer a FieldCipher (e.g. "
                + "FieldCipher.fromEnvironment()), or set TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE for the CLI")
        }
        var request = self
        request.data = try data.encryptingFields(options.encrypt, with: cipher, what: what)
        return request
    }
}
