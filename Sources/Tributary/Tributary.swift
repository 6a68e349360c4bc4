/// Tributary: flow/DAG orchestration on Redis, wire-compatible with BullMQ.
///
/// This module currently provides the foundation layer: a pipelining Redis client built on SwiftNIO with
/// hiredis as its RESP reader (``RedisClient``), and a JSON value type parsed by jansson (``JSONValue``).
public enum Tributary {
    /// The version of the Tributary library and CLI.
    public static let version = "0.1.0"
}
