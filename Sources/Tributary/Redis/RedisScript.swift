import NIOConcurrencyHelpers

/// A Lua script run with EVALSHA; its SHA-1 is computed locally, so the first call costs no extra round trip.
///
/// ```swift
/// let incrementBy = RedisScript(source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let total = try await client.run(incrementBy, keys: ["counter"], arguments: [5]).int
/// ```
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The SHA-1 of the source, as Redis names the script.
    public let sha1: String

    /// Creates a script from its Lua source.
    public init(source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(source.utf8)
    }

    /// The EVALSHA command that runs this script (for pipelines and transactions).
    public func command(keys: [String], arguments: [RedisArgument]) -> RedisCommand {
        var all: [RedisArgument] = []
        all.reserveCapacity(3 + keys.count + arguments.count)
        all.append("EVALSHA")
        all.append(.string(sha1))
        all.append(.integer(Int64(keys.count)))
        for key in keys { all.append(.string(key)) }
        all.append(contentsOf: arguments)
        return RedisCommand(fullArguments: all)
    }

    /// The SCRIPT LOAD command for this script.
    public var loadCommand: RedisCommand { RedisCommand("SCRIPT", "LOAD", .string(source)) }
}

/// The SCRIPT LOADs a client has sent, by SHA-1, so that tasks meeting NOSCRIPT for one script at once (a worker's
/// first jobs, all started together) wait for one load instead of each sending its own.
final class ScriptLoads: Sendable {
    private let loads = NIOLockedValueBox([String: Task<Void, any Error>]())
    private let sent = NIOLockedValueBox(0)

    /// How many SCRIPT LOADs this client has sent.
    var count: Int { sent.withLockedValue { $0 } }

    /// The load of `script` to wait for: the one in flight or done, unless that is `stale` (a load that did not
    /// help: the server lost the script again, by SCRIPT FLUSH or a restart), in which case a new one is started.
    func load(_ script: RedisScript, replacing stale: Task<Void, any Error>?,
              send: @escaping @Sendable (RedisCommand) async throws -> RESPValue) -> Task<Void, any Error> {
        loads.withLockedValue { loads in
            if let current = loads[script.sha1], current != stale { return current }
            sent.withLockedValue { $0 += 1 }
            let load = Task {
                let loaded = try await send(script.loadCommand)
                guard loaded.string == script.sha1 else {
                    throw RedisClientError(.unexpectedReply,
                                           "SCRIPT LOAD returned \(loaded), expected the SHA-1 \(script.sha1)")
                }
            }
            loads[script.sha1] = load
            return load
        }
    }

    /// Forgets `load` if it is still the current one (it failed: the next caller starts another).
    func forget(_ load: Task<Void, any Error>, of script: RedisScript) {
        loads.withLockedValue { loads in
            if loads[script.sha1] == load { loads[script.sha1] = nil }
        }
    }
}

extension RedisClient {
    /// Runs a script with EVALSHA; when the server does not know it (NOSCRIPT: first use, restart, SCRIPT FLUSH),
    /// loads it with SCRIPT LOAD and runs it again. Calls that meet NOSCRIPT for the same script at the same time
    /// share one SCRIPT LOAD.
    ///
    /// - Parameters:
    ///   - script: the script to run.
    ///   - keys: the script's KEYS.
    ///   - arguments: the script's ARGV.
    /// - Returns: the script's reply.
    /// - Throws: ``RedisServerError`` for an error raised by the script or the server.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [RedisArgument] = []) async throws -> RESPValue {
        let command = script.command(keys: keys, arguments: arguments)
        do {
            return try await send(command)
        } catch let error as RedisServerError where error.code == "NOSCRIPT" {
            // The first load waited for may be one that finished before the server lost the script again; then the
            // second attempt starts a fresh one.
            var stale: Task<Void, any Error>?
            var lastError: any Error = error
            for _ in 0..<2 {
                let load = scriptLoads.load(script, replacing: stale) { [self] in try await self.send($0) }
                do {
                    try await load.value
                } catch {
                    scriptLoads.forget(load, of: script)
                    throw error
                }
                do {
                    return try await send(command)
                } catch let error as RedisServerError where error.code == "NOSCRIPT" {
                    stale = load
                    lastError = error
                }
            }
            throw lastError
        }
    }

    /// How many SCRIPT LOADs this client has sent (each script loads once unless the server loses it).
    public var scriptLoadCount: Int { scriptLoads.count }
}
