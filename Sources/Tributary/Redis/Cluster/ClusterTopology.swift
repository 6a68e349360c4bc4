/// Which master of a Redis Cluster owns each hash slot, and the replicas of each master, as `CLUSTER SLOTS`
/// reports them.
struct ClusterTopology: Sendable {
    typealias Endpoint = RedisConfiguration.Endpoint

    /// The masters, in the order the reply named them.
    private(set) var masters: [Endpoint] = []
    /// The replicas of each master (same index as ``masters``).
    private(set) var replicas: [[Endpoint]] = []
    /// For each slot, its master's index in ``masters``, or -1 when no node serves it.
    private var owners = [Int16](repeating: -1, count: HashSlot.count)

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id…], replica…], …]`. A node named by an empty
    /// host (or `?`) is reached at the host of `askedNode`, the one that answered.
    init(slotsReply: RESPValue, askedNode: Endpoint) throws {
        guard let ranges = slotsReply.array else {
            throw RedisClientError(.unexpectedReply, "CLUSTER SLOTS returned \(slotsReply), expected an array of slot ranges")
        }
        let fallbackHost: String
        switch askedNode {
        case .tcp(let host, _): fallbackHost = host
        case .unixSocket: fallbackHost = "127.0.0.1"
        }
        func endpoint(_ value: RESPValue) -> Endpoint? {
            guard let parts = value.array, parts.count >= 2, let port = parts[1].int else { return nil }
            let host = parts[0].string ?? ""
            return .tcp(host: host.isEmpty || host == "?" ? fallbackHost : host, port: port)
        }
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                  (0..<HashSlot.count).contains(start), (start..<HashSlot.count).contains(end),
                  let master = endpoint(parts[2]) else {
                throw RedisClientError(.unexpectedReply, "CLUSTER SLOTS returned a malformed slot range: \(range)")
            }
            let index = index(of: master, adding: true)
            for replica in parts.dropFirst(3).compactMap(endpoint) where !replicas[index].contains(replica) {
                replicas[index].append(replica)
            }
            for slot in start...end { owners[slot] = Int16(index) }
        }
    }

    /// The master that owns `slot`, or `nil` when none does (the cluster is missing slots).
    func owner(of slot: Int) -> Endpoint? {
        let index = owners[slot]
        return index < 0 ? nil : masters[Int(index)]
    }

    /// How many slots have an owner (16,384 for a healthy cluster).
    var coveredSlots: Int { owners.count { $0 >= 0 } }

    /// Records that `slot` now belongs to `master` (from a MOVED reply), until the next full reload.
    mutating func assign(_ slot: Int, to master: Endpoint) {
        owners[slot] = Int16(index(of: master, adding: true))
    }

    /// Every node named: masters, then replicas.
    var allNodes: [Endpoint] { masters + replicas.flatMap { $0 } }

    private mutating func index(of master: Endpoint, adding: Bool) -> Int {
        if let index = masters.firstIndex(of: master) { return index }
        masters.append(master)
        replicas.append([])
        return masters.count - 1
    }
}

/// A cluster error reply that tells the client to send a command elsewhere or later.
enum ClusterRedirect {
    /// `MOVED slot host:port`: the slot belongs to another master for good.
    case moved(slot: Int, to: RedisConfiguration.Endpoint)
    /// `ASK slot host:port`: the slot is being migrated; this one command goes there, after ASKING.
    case ask(slot: Int, to: RedisConfiguration.Endpoint)
    /// `TRYAGAIN` (keys of a migrating slot are split between nodes) or `CLUSTERDOWN` (a failover is under way,
    /// or slots are unserved): try again shortly.
    case later

    init?(_ error: RedisServerError, currentHost: String = "127.0.0.1") {
        switch error.code {
        case "MOVED", "ASK":
            let parts = error.message.split(separator: " ")
            guard parts.count >= 3, let slot = Int(parts[1]), let colon = parts[2].lastIndex(of: ":"),
                  let port = Int(parts[2][parts[2].index(after: colon)...]) else { return nil }
            var host = String(parts[2][..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let endpoint = RedisConfiguration.Endpoint.tcp(host: host.isEmpty ? currentHost : host, port: port)
            self = error.code == "MOVED" ? .moved(slot: slot, to: endpoint) : .ask(slot: slot, to: endpoint)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .later
        default:
            return nil
        }
    }

    /// The redirect carried by an error reply, if it is one.
    init?(reply: RESPValue, currentHost: String = "127.0.0.1") {
        guard case .error(let error) = reply else { return nil }
        self.init(error, currentHost: currentHost)
    }
}
