/// Tributary: flow/DAG orchestration on Redis, wire-compatible with BullMQ.
///
/// The module's entry points are ``RedisClient`` (the connection), ``Queue`` and ``Worker`` (BullMQ's jobs),
/// ``FlowCompiler`` and ``FlowProducer`` (flows and runs); see the documentation's "Getting started".
public enum Tributary {
    /// The version of the Tributary library and CLI, following semantic versioning (see CHANGELOG.md).
    public static let version = "0.1.0"
}
