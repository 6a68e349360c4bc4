import NIOConcurrencyHelpers

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

    /// Key lists already built, by queue: workers ask for the same ones for every job.
    private let keyCache = KeyCache()

    /// The KEYS of this script for a queue.
    func keys(for queue: QueueKeys) -> [String] {
        if let cached = keyCache.lists.withLockedValue({ $0[queue] }) { return cached }
        let list = keys.map(queue.key)
        keyCache.lists.withLockedValue { lists in
            if lists.count >= 256 { lists.removeAll() }  // many short-lived queues: stay small
            lists[queue] = list
        }
        return list
    }

    private final class KeyCache: Sendable {
        let lists = NIOLockedValueBox<[QueueKeys: [String]]>([:])
    }

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
        "mapItems": PackageResources.mapItems_lua,
        "reopenMapNode": PackageResources.reopenMapNode_lua,
        "isPausedOrMaxed": PackageResources.isPausedOrMaxed_lua,
        "markReady": PackageResources.markReady_lua,
        "enqueueReady": PackageResources.enqueueReady_lua,
        "scheduleDelayed": PackageResources.scheduleDelayed_lua,
        "promoteDueJobs": PackageResources.promoteDueJobs_lua,
        "takeNextJob": PackageResources.takeNextJob_lua,
        "releaseLock": PackageResources.releaseLock_lua,
        "inCancelledRun": PackageResources.inCancelledRun_lua,
        "removeJobData": PackageResources.removeJobData_lua,
        "trimFinished": PackageResources.trimFinished_lua,
        "countFinished": PackageResources.countFinished_lua,
        "appendedStacktrace": PackageResources.appendedStacktrace_lua,
        "jobParents": PackageResources.jobParents_lua,
        "moveParentOn": PackageResources.moveParentOn_lua,
        "completeChild": PackageResources.completeChild_lua,
        "failChild": PackageResources.failChild_lua,
        "detachFromParent": PackageResources.detachFromParent_lua,
        "deleteJob": PackageResources.deleteJob_lua,
        "reattachToParent": PackageResources.reattachToParent_lua,
        "recordRunOutcome": PackageResources.recordRunOutcome_lua,
        "releaseHeldItem": PackageResources.releaseHeldItem_lua,
        "settleRun": PackageResources.settleRun_lua,
        "reopenRunNode": PackageResources.reopenRunNode_lua,
        "jobCounter": PackageResources.jobCounter_lua,
        "schedulerIteration": PackageResources.schedulerIteration_lua,
        "deduplicate": PackageResources.deduplicate_lua,
        "releaseDeduplication": PackageResources.releaseDeduplication_lua,
        "addKeptNextJob": PackageResources.addKeptNextJob_lua,
        "effectiveRateLimit": PackageResources.effectiveRateLimit_lua,
        "queueMeta": PackageResources.queueMeta_lua,
        "runProgress": PackageResources.runProgress_lua,
        "flowInputReads": PackageResources.flowInputReads_lua,
    ]
}

/// Every script, for the header check and for loading.
enum QueueScripts {
    /// The one add path: one job (Queue.add, job.addChild) or many of one queue (bulks, flows) per call.
    static let addJobs = QueueScript(
        "addJobs", source: PackageResources.addJobs_lua,
        keys: [.wait, .meta, .id, .delayed, .prioritized, .priorityCounter, .active, .events, .marker, .waitingChildren,
               .completed])

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

    static let moveJobFromActiveToWait = QueueScript(
        "moveJobFromActiveToWait", source: PackageResources.moveJobFromActiveToWait_lua,
        keys: [.active, .wait, .prioritized, .meta, .events, .marker, .stalled, .limiter])

    static let extendLocks = QueueScript("extendLocks", source: PackageResources.extendLocks_lua, keys: [.stalled])

    static let moveStalledJobsToWait = QueueScript(
        "moveStalledJobsToWait", source: PackageResources.moveStalledJobsToWait_lua,
        keys: [.stalled, .wait, .active, .prioritized, .priorityCounter, .meta, .events, .marker, .stalledCheck])

    // Queue administration and job actions (Queue+Admin.swift, Queue+JobActions.swift).

    static let pause = QueueScript(
        "pause", source: PackageResources.pause_lua,
        keys: [.meta, .wait, .paused, .prioritized, .delayed, .active, .events, .marker])

    static let drain = QueueScript(
        "drain", source: PackageResources.drain_lua, keys: [.wait, .paused, .prioritized, .delayed, .priorityCounter])

    static let cleanJobs = QueueScript(
        "cleanJobs", source: PackageResources.cleanJobs_lua,
        keys: [.wait, .paused, .active, .prioritized, .delayed, .completed, .failed, .meta, .events])

    static let obliterate = QueueScript("obliterate", source: PackageResources.obliterate_lua, keys: [.meta, .active])

    static let moveJobsToWait = QueueScript(
        "moveJobsToWait", source: PackageResources.moveJobsToWait_lua,
        keys: [.wait, .prioritized, .priorityCounter, .meta, .active, .events, .marker, .delayed, .completed, .failed])

    static let reprocessJob = QueueScript(
        "reprocessJob", source: PackageResources.reprocessJob_lua,
        keys: [.wait, .prioritized, .priorityCounter, .meta, .active, .events, .marker, .completed, .failed,
               .waitingChildren])

    static let promoteJob = QueueScript(
        "promoteJob", source: PackageResources.promoteJob_lua,
        keys: [.delayed, .wait, .prioritized, .priorityCounter, .meta, .active, .events, .marker])

    static let removeJob = QueueScript(
        "removeJob", source: PackageResources.removeJob_lua,
        keys: [.wait, .paused, .active, .prioritized, .delayed, .completed, .failed, .waitingChildren, .stalled, .meta,
               .events])

    static let updateProgress = QueueScript(
        "updateProgress", source: PackageResources.updateProgress_lua, keys: [.meta, .events])

    static let updateData = QueueScript("updateData", source: PackageResources.updateData_lua, keys: [])

    static let addLog = QueueScript("addLog", source: PackageResources.addLog_lua, keys: [])

    static let changePriority = QueueScript(
        "changePriority", source: PackageResources.changePriority_lua,
        keys: [.wait, .prioritized, .priorityCounter, .meta, .active, .marker])

    static let changeDelay = QueueScript(
        "changeDelay", source: PackageResources.changeDelay_lua, keys: [.delayed, .meta, .events, .marker])

    // Flows (Flow/, Worker/Job+Children.swift).

    static let checkFlow = QueueScript("checkFlow", source: PackageResources.checkFlow_lua, keys: [])

    static let cancelFlowRun = QueueScript("cancelFlowRun", source: PackageResources.cancelFlowRun_lua, keys: [])

    static let getStates = QueueScript("getStates", source: PackageResources.getStates_lua, keys: [])

    static let retryFlowRun = QueueScript("retryFlowRun", source: PackageResources.retryFlowRun_lua, keys: [])

    static let settleFlowRun = QueueScript("settleFlowRun", source: PackageResources.settleFlowRun_lua, keys: [])

    static let removeChildDependency = QueueScript(
        "removeChildDependency", source: PackageResources.removeChildDependency_lua, keys: [])

    static let moveToWaitingChildren = QueueScript(
        "moveToWaitingChildren", source: PackageResources.moveToWaitingChildren_lua,
        keys: [.active, .waitingChildren, .stalled, .meta, .events])

    // Conditions and map nodes (Flow/FlowCondition.swift, Flow/FlowMap.swift, Worker/Worker+FlowNodes.swift).

    static let skipNode = QueueScript(
        "skipNode", source: PackageResources.skipNode_lua, keys: [.active, .stalled, .completed, .meta, .events])

    static let expandMap = QueueScript(
        "expandMap", source: PackageResources.expandMap_lua, keys: [.wait, .meta, .active, .events, .marker])

    static let rerunMapItems = QueueScript(
        "rerunMapItems", source: PackageResources.rerunMapItems_lua,
        keys: [.wait, .meta, .active, .events, .marker, .failed, .completed])

    // Job schedulers (Queue/Schedules/, Worker/Worker+JobSchedulers.swift).

    private static let schedulerKeys: [QueueKeys.Kind] = [
        .jobSchedulers, .delayed, .wait, .paused, .meta, .prioritized, .marker, .id, .events, .priorityCounter, .active,
    ]

    static let upsertJobScheduler = QueueScript(
        "upsertJobScheduler", source: PackageResources.upsertJobScheduler_lua, keys: schedulerKeys)

    static let updateJobScheduler = QueueScript(
        "updateJobScheduler", source: PackageResources.updateJobScheduler_lua, keys: schedulerKeys)

    static let removeJobScheduler = QueueScript(
        "removeJobScheduler", source: PackageResources.removeJobScheduler_lua, keys: [.jobSchedulers, .delayed, .events])

    // RedisLock (Redis/RedisLock.swift); the lock key is the one extra key.

    static let redisLockExtend = QueueScript("redisLockExtend", source: PackageResources.redisLockExtend_lua, keys: [])

    static let redisLockRelease = QueueScript("redisLockRelease", source: PackageResources.redisLockRelease_lua, keys: [])

    // The doctor (Queue/Doctor/).

    private static let stateKeys: [QueueKeys.Kind] = [
        .wait, .paused, .active, .prioritized, .delayed, .completed, .failed, .waitingChildren,
    ]

    static let doctorInspect = QueueScript("doctorInspect", source: PackageResources.doctorInspect_lua, keys: stateKeys)

    static let doctorRepair = QueueScript(
        "doctorRepair", source: PackageResources.doctorRepair_lua, keys: stateKeys + [.stalled, .meta, .events])

    static let all: [QueueScript] = [
        checkFlow, cancelFlowRun, getStates, retryFlowRun, settleFlowRun, addJobs, moveToActive, moveToFinished, retryJob, moveToDelayed, moveJobFromActiveToWait, extendLocks, moveStalledJobsToWait,
        pause, drain, cleanJobs, obliterate, moveJobsToWait, reprocessJob, promoteJob, removeJob, updateProgress,
        updateData, addLog, changePriority, changeDelay, removeChildDependency, moveToWaitingChildren,
        skipNode, expandMap, rerunMapItems,
        doctorInspect, doctorRepair, upsertJobScheduler, updateJobScheduler, removeJobScheduler,
        redisLockExtend, redisLockRelease,
    ]
}
