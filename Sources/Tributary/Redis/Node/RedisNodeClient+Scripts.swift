import NIOConcurrencyHelpers

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

extension RedisNodeClient {
    /// Runs `command`, the EVALSHA of `script`; on NOSCRIPT loads the script on this server and runs it again.
    func run(_ script: RedisScript, command: RedisCommand) async throws -> RESPValue {
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
}
