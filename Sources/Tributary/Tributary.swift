/// Tributary: flow/DAG orchestration on Redis, wire-compatible with BullMQ.
///
/// The module's entry points are ``RedisClient`` (the connection), ``Queue`` and ``Worker`` (BullMQ's jobs),
/// ``FlowCompiler`` and ``FlowProducer`` (flows and runs); see the documentation's "Getting started".
public enum Tributary {
    /// The version of the Tributary library and CLI, following semantic versioning (see CHANGELOG.md).
    public static let version = "0.1.0"

    /// The `version` field Tributary writes to a queue's `meta` hash the first time it uses the queue (unless a
    /// BullMQ client already wrote its own), as Node BullMQ's `Queue` does: BullMQ's name and the major version
    /// whose Redis layout Tributary shares, so that tools that scan `<prefix>:*:meta` (bull-board's CLI) treat the
    /// queue as a BullMQ queue, tagged with Tributary's name. Written by `includes/maxEvents.lua`.
    public static let bullmqVersionField = "bullmq:5.0.0-tributary"
}
