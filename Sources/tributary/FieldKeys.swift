import Tributary

/// The keys for encrypted job fields, from `TRIBUTARY_KEYS` or `TRIBUTARY_KEYS_FILE` (docs/production.md).
enum FieldKeys {
    /// The configured keys, or `nil`; unusable variables are an invalid-input error (exit 2).
    static func load() throws -> FieldCipher? {
        do {
            return try FieldCipher.fromEnvironment()
        } catch let error as FieldCipherError {
            throw CLIError(error.message, status: .invalidInput)
        }
    }

    /// How to configure keys, for messages.
    static let howTo = "set TRIBUTARY_KEYS=kid:BASE64 (a 32-byte key; make one with: head -c 32 /dev/urandom | base64) "
        + "or TRIBUTARY_KEYS_FILE=PATH (a file holding kid:BASE64 entries)"

    /// The first node of `plan` that asks for encryption (`encrypt` or `encryptResult`), if any.
    static func nodeAskingForEncryption(in plan: FlowPlan) -> FlowPlan.Node? {
        plan.nodes.first { !$0.options.encrypt.isEmpty || $0.options.encryptResult }
    }
}
