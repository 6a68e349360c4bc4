import Tributary

/// The longest commands Redis ran during a phase, from its SLOWLOG: `start` before the phase (threshold 1 ms, room
/// for every entry, log emptied), `longest` after it. Used by P7 on both sides (bench_client.py does the same).
enum SlowLog {
    /// Commands taking at least this long are logged, in microseconds.
    static let thresholdMicroseconds = 1000

    static func start(_ client: RedisClient) async throws {
        _ = try await client.send(RedisCommand("CONFIG", "SET", "slowlog-log-slower-than", .integer(Int64(thresholdMicroseconds))))
        _ = try await client.send(RedisCommand("CONFIG", "SET", "slowlog-max-len", 1_000_000))
        _ = try await client.send(RedisCommand("SLOWLOG", "RESET"))
    }

    /// `slowest_script_ms`: the longest single script call (EVAL, EVALSHA, FCALL and their read-only forms);
    /// `slowest_command_ms`: the longest command of any kind; `slow_commands`: how many took 1 ms or more.
    /// 0 when none reached the threshold.
    static func longest(_ client: RedisClient) async throws -> [String: Double] {
        let entries = try await client.send(RedisCommand("SLOWLOG", "GET", -1)).array ?? []
        var script = 0, command = 0
        for entry in entries {
            guard let fields = entry.array, fields.count >= 4, let duration = fields[2].int else { continue }
            command = max(command, Int(duration))
            let name = fields[3].array?.first?.string?.lowercased() ?? ""
            if ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"].contains(name) {
                script = max(script, Int(duration))
            }
        }
        return ["slowest_script_ms": Double(script) / 1000, "slowest_command_ms": Double(command) / 1000,
                "slow_commands": Double(entries.count)]
    }
}
