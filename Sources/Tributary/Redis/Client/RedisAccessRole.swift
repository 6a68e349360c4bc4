/// Least-privilege Redis users for Tributary: the commands each kind of client really sends (directly, or from
/// the Lua scripts it runs, which Redis checks against the same ACL), and the keys of one prefix. See
/// docs/production.md, "Least-privilege Redis users".
///
/// ```swift
/// print(RedisAccessRole.worker.setUserCommand(user: "tributary-worker", prefix: "bull"))
/// // ACL SETUSER tributary-worker reset on >PASSWORD ~bull:* resetchannels -@all +ping +select …
/// ```
///
/// Tributary uses no pub/sub (events are streams), so no channel is granted. A user that may run `EVALSHA` runs only
/// the commands and keys its ACL allows, from a script as from a client.
public enum RedisAccessRole: String, Sendable, CaseIterable {
    /// Runs jobs (``Worker``, `tributary worker`): every queue script, the blocking fetch (`BZPOPMIN`).
    case worker
    /// Adds jobs and flows, and manages queues and runs (``Queue``, ``FlowProducer``, `tributary run`, `job`,
    /// `queue`): a worker's commands but the blocking fetch, since its scripts (adds, flows, retries, cleaning)
    /// move jobs too.
    case producer
    /// Reads only (a dashboard, `tributary stats`, `flow show`, `job show`): read commands, and the one read-only
    /// script (`getStates`) on read-only keys (`%R~`).
    case reader

    /// Every client: the connection handshake and the server check (`INFO server`; `CONFIG GET maxmemory-policy`
    /// is left out: without it the check is skipped quietly).
    static let connection = ["ping", "select", "info", "client|setname", "cluster|slots", "asking"]

    /// Commands that only read, sent directly or from the read-only script.
    static let reads = [
        "exists", "type", "get", "hget", "hgetall", "hmget", "hkeys", "hlen", "hexists", "hscan", "llen", "lrange", "lpos",
        "scard", "smembers", "sismember", "sscan", "zcard", "zrange", "zrangebyscore", "zrevrange", "zrevrangebyscore",
        "zscore", "zscan", "xread", "xrevrange", "scan", "pttl", "time",
    ]

    /// Commands that write, sent directly (transactions, run records) or from the queue scripts.
    static let writes = [
        "multi", "exec", "del", "set", "incr", "hset", "hdel", "hincrby", "lpush", "rpush", "lpop", "rpoplpush", "lrem",
        "lset", "ltrim", "sadd", "srem", "zadd", "zrem", "zpopmin", "zremrangebyrank", "xadd", "pexpire", "persist",
        "rename",
    ]

    /// Running scripts: `EVALSHA`, and `SCRIPT LOAD` when the server does not know a script yet.
    static let scripts = ["evalsha", "script|load"]

    /// The commands this role may run, in the order the ACL lists them.
    public var commands: [String] {
        switch self {
        case .worker: return Self.connection + Self.scripts + Self.reads + Self.writes + ["bzpopmin"]
        case .producer: return Self.connection + Self.scripts + Self.reads + Self.writes
        case .reader: return Self.connection + Self.scripts + Self.reads
        }
    }

    /// The key pattern of `prefix`: `~prefix:*`, read-only (`%R~prefix:*`) for the reader.
    public func keyPattern(prefix: String) -> String {
        (self == .reader ? "%R~" : "~") + prefix + ":*"
    }

    /// The `ACL SETUSER` arguments for `user` with `password` on the queues of `prefix` (`reset` first, so that
    /// nothing granted before survives).
    public func setUserArguments(user: String, password: String, prefix: String = "bull") -> [String] {
        ["SETUSER", user, "reset", "on", ">" + password, keyPattern(prefix: prefix), "resetchannels", "-@all"]
            + commands.map { "+" + $0 }
    }

    /// The `ACL SETUSER …` line to run in redis-cli (the password given as `PASSWORD` unless named).
    public func setUserCommand(user: String, password: String = "PASSWORD", prefix: String = "bull") -> String {
        "ACL " + setUserArguments(user: user, password: password, prefix: prefix).joined(separator: " ")
    }
}
