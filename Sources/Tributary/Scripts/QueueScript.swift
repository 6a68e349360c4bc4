/// One of Tributary's Lua scripts (Sources/Tributary/Scripts/lua), with its includes inlined, and the order of
/// the KEYS it expects.
///
/// The key order is written once, here in Swift; a test checks it against the `KEYS:` section of the script's
/// header, so the two cannot drift apart.
struct QueueScript: Sendable {
    /// The script's file name without `.lua`.
    let name: String
    /// The per-queue keys the script takes, in KEYS order.
    let keys: [QueueKeys.Kind]
    /// The assembled script, run with EVALSHA.
    let script: RedisScript
    /// The file as written, header included (for the header check).
    let rawSource: String

    init(_ name: String, source: [UInt8], keys: [QueueKeys.Kind]) {
        self.name = name
        self.keys = keys
        self.rawSource = String(decoding: source, as: UTF8.self)
        do {
            self.script = RedisScript(source: try ScriptAssembler.assemble(rawSource, includes: ScriptIncludes.all))
        } catch {
            preconditionFailure("Lua script \(name).lua cannot be assembled: \(error)")
        }
    }

    /// The KEYS of this script for a queue.
    func keys(for queue: QueueKeys) -> [String] { keys.map(queue.key) }

    /// The EVALSHA command running this script for a queue, with extra keys after the queue's.
    func command(_ queue: QueueKeys, extraKeys: [String] = [], arguments: [RedisArgument]) -> RedisCommand {
        script.command(keys: keys(for: queue) + extraKeys, arguments: arguments)
    }
}

/// Inlines `--- @include "name"` lines with the named file of `lua/includes`, each include once per script,
/// an include's own includes first.
enum ScriptAssembler {
    struct AssemblyError: Error, CustomStringConvertible {
        let description: String
    }

    static func assemble(_ source: String, includes: [String: [UInt8]]) throws -> String {
        var included: Set<String> = []
        var output: [Substring] = []
        try inline(source, includes: includes, included: &included, stack: [], into: &output)
        return output.joined(separator: "\n")
    }

    private static func inline(_ source: String, includes: [String: [UInt8]], included: inout Set<String>,
                               stack: [String], into output: inout [Substring]) throws {
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let name = includeName(line) else {
                output.append(line)
                continue
            }
            if stack.contains(name) {
                throw AssemblyError(description: "include cycle: \((stack + [name]).joined(separator: " -> "))")
            }
            guard !included.contains(name) else { continue }
            guard let bytes = includes[name] else {
                throw AssemblyError(description: "unknown include \"\(name)\"")
            }
            included.insert(name)
            try inline(String(decoding: bytes, as: UTF8.self), includes: includes, included: &included,
                       stack: stack + [name], into: &output)
        }
    }

    /// The name in a `--- @include "name"` line.
    static func includeName(_ line: Substring) -> String? {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix("--- @include \"") else { return nil }
        let rest = trimmed.dropFirst("--- @include \"".count)
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}

/// The shared Lua functions, by include name.
enum ScriptIncludes {
    static let all: [String: [UInt8]] = [
        "maxEvents": PackageResources.maxEvents_lua,
        "isPausedOrMaxed": PackageResources.isPausedOrMaxed_lua,
        "markReady": PackageResources.markReady_lua,
        "enqueueReady": PackageResources.enqueueReady_lua,
        "scheduleDelayed": PackageResources.scheduleDelayed_lua,
        "promoteDueJobs": PackageResources.promoteDueJobs_lua,
        "takeNextJob": PackageResources.takeNextJob_lua,
        "releaseLock": PackageResources.releaseLock_lua,
        "removeJobData": PackageResources.removeJobData_lua,
        "trimFinished": PackageResources.trimFinished_lua,
    ]
}

/// Every script, for the header check and for loading.
enum QueueScripts {
    static let addJob = QueueScript(
        "addJob", source: PackageResources.addJob_lua,
        keys: [.wait, .meta, .id, .delayed, .prioritized, .priorityCounter, .active, .events, .marker])

    /// The keys `takeNextJob` needs, shared by moveToActive and moveToFinished.
    private static let fetchKeys: [QueueKeys.Kind] = [
        .wait, .active, .prioritized, .delayed, .priorityCounter, .meta, .events, .marker, .limiter,
    ]

    static let moveToActive = QueueScript("moveToActive", source: PackageResources.moveToActive_lua, keys: fetchKeys)

    static let moveToFinished = QueueScript(
        "moveToFinished", source: PackageResources.moveToFinished_lua, keys: fetchKeys + [.stalled, .completed, .failed])

    static let retryJob = QueueScript(
        "retryJob", source: PackageResources.retryJob_lua,
        keys: [.wait, .active, .prioritized, .priorityCounter, .meta, .events, .marker, .stalled])

    static let moveToDelayed = QueueScript(
        "moveToDelayed", source: PackageResources.moveToDelayed_lua, keys: [.active, .delayed, .meta, .events, .marker, .stalled])

    static let extendLocks = QueueScript("extendLocks", source: PackageResources.extendLocks_lua, keys: [.stalled])

    static let moveStalledJobsToWait = QueueScript(
        "moveStalledJobsToWait", source: PackageResources.moveStalledJobsToWait_lua,
        keys: [.stalled, .wait, .active, .prioritized, .priorityCounter, .meta, .events, .marker, .stalledCheck])

    static let all: [QueueScript] = [
        addJob, moveToActive, moveToFinished, retryJob, moveToDelayed, extendLocks, moveStalledJobsToWait,
    ]
}
