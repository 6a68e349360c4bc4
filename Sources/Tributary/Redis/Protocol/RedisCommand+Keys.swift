extension RedisCommand {
    /// The positions in ``arguments`` of the keys this command reads or writes, as Redis Cluster sees them: a
    /// command is sent to the node that owns its keys' hash slot.
    ///
    /// Scripts (EVALSHA, EVAL) name their keys through their key count; the commands that take several keys, or
    /// keys after other arguments (XREAD … STREAMS, BZPOPMIN … timeout, ZUNIONSTORE, BLMPOP…) have their own rules;
    /// server commands (PING, INFO, CLIENT, SCRIPT, SCAN…) have none; any other command has its key first.
    var keyPositions: [Int] {
        let count = arguments.count
        func integer(at index: Int) -> Int? {
            guard arguments.indices.contains(index) else { return nil }
            switch arguments[index] {
            case .integer(let value): return Int(value)
            case .string(let text): return Int(text)
            case .bytes(let bytes): return Int(String(decoding: bytes, as: UTF8.self))
            case .double: return nil
            }
        }
        /// `numkeys` at `index`, then that many keys.
        func counted(at index: Int) -> [Int] {
            guard let keys = integer(at: index), keys > 0 else { return [] }
            return Array((index + 1)..<min(count, index + 1 + keys))
        }
        switch name {
        case "EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO":
            return counted(at: 2)
        case "PING", "INFO", "CLIENT", "CONFIG", "SCRIPT", "SCAN", "TIME", "DBSIZE", "SLOWLOG", "MULTI", "EXEC",
             "DISCARD", "AUTH", "SELECT", "WAIT", "KEYS", "FLUSHALL", "FLUSHDB", "CLUSTER", "ASKING", "READONLY",
             "READWRITE", "HELLO", "ECHO", "QUIT", "COMMAND", "ACL", "LATENCY", "DEBUG", "SHUTDOWN", "LASTSAVE", "SAVE",
             "BGSAVE", "BGREWRITEAOF", "ROLE", "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "RANDOMKEY",
             "UNWATCH", "SWAPDB", "FUNCTION", "MONITOR", "RESET":
            return []
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF", "SINTERSTORE",
             "SUNIONSTORE", "SDIFFSTORE", "PFCOUNT", "PFMERGE":
            return Array(1..<max(1, count))
        case "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX":
            return Array(1..<max(1, count - 1))
        case "MSET", "MSETNX":
            return Array(stride(from: 1, to: count, by: 2))
        case "RENAME", "RENAMENX", "RPOPLPUSH", "BRPOPLPUSH", "LMOVE", "BLMOVE", "SMOVE", "COPY", "ZRANGESTORE":
            return Array(1..<min(count, 3))
        case "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE":
            return (count > 1 ? [1] : []) + counted(at: 2)
        case "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "SINTERCARD", "LMPOP", "ZMPOP":
            return counted(at: 1)
        case "BLMPOP", "BZMPOP":
            return counted(at: 2)
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { $0.upperText == "STREAMS" }) else { return [] }
            let rest = count - streams - 1
            return Array((streams + 1)..<(streams + 1 + rest / 2))
        case "OBJECT", "MEMORY", "XGROUP", "XINFO":
            return count > 2 ? [2] : []
        default:
            return count > 1 ? [1] : []
        }
    }

    /// Whether the command only reads (GET, HGETALL, ZRANGE, XREAD…), so that sending it again after its connection
    /// dropped under it cannot change anything. Scripts count as writes.
    var isReadOnly: Bool {
        switch name {
        case "GET", "MGET", "EXISTS", "TYPE", "PTTL", "TTL", "STRLEN", "HGET", "HMGET", "HGETALL", "HKEYS", "HVALS", "HLEN",
             "HEXISTS", "HSCAN", "LLEN", "LRANGE", "LINDEX", "LPOS", "SCARD", "SMEMBERS", "SISMEMBER", "SSCAN", "ZCARD",
             "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK",
             "ZCOUNT", "ZSCAN", "XRANGE", "XREVRANGE", "XLEN", "XREAD", "SCAN", "PING", "TIME", "INFO", "DBSIZE":
            return true
        default:
            return false
        }
    }

    /// The keys of this command, as Redis Cluster routes it (script keys through their count, XREAD keys after
    /// STREAMS, none for server commands such as PING or SCAN…), plus ``routingKey`` when set.
    public var keys: [String] {
        var keys = keyPositions.map { arguments[$0].text }
        if let routingKey { keys.append(routingKey) }
        return keys
    }
}

extension RedisArgument {
    /// The argument as text (bytes decoded as UTF-8, numbers in decimal).
    var text: String {
        switch self {
        case .string(let text): return text
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return String(value)
        case .double(let value): return value.description
        }
    }

    /// The argument in upper case when it is text, for matching options such as `BLOCK` or `STREAMS`.
    var upperText: String? {
        if case .string(let text) = self { return text.uppercased() }
        return nil
    }
}
