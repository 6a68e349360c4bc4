import Foundation
import Testing
@testable import Tributary

/// What became of a flow's parent after one of its children failed for good, with job ids replaced by names so
/// that two runs of the same tree compare equal.
struct PolicyOutcome: Equatable, CustomStringConvertible {
    var parentState: String
    var parentFailure: String?
    var pending: Set<String>
    var processed: Set<String>
    var ignoredFailures: [String: String]
    var unsuccessful: Set<String>

    var description: String {
        "state=\(parentState) failure=\(parentFailure ?? "-") pending=\(pending.sorted()) processed=\(processed.sorted()) "
            + "ignored=\(ignoredFailures) unsuccessful=\(unsuccessful.sorted())"
    }
}

/// The handler's error for the failing child: the same text Python's peer raises, so recorded reasons compare.
private struct PeerStyleFailure: Error, CustomStringConvertible {
    let name: String
    var description: String { "python failure \(name)" }
}

extension InteropTests {
    /// A parent with a good child and a child `bad` that fails for good with `flag` ("fpof", "idof", "rdof",
    /// "cpof", or nil for BullMQ's default), in BullMQ's nested shape for Python's FlowProducer.
    private static func tree(queue: String, flag: String?) -> JSONValue {
        var badOptions: JSONObject = [:]
        if let flag {
            let names = ["fpof": "failParentOnFailure", "idof": "ignoreDependencyOnFailure",
                         "rdof": "removeDependencyOnFailure", "cpof": "continueParentOnFailure"]
            badOptions[names[flag]!] = true
        }
        return ["name": "parent", "queueName": .string(queue), "data": [:], "children": [
            ["name": "good", "queueName": .string(queue), "data": [:]],
            ["name": "bad", "queueName": .string(queue), "data": [:], "opts": .object(badOptions)],
        ]]
    }

    /// Reads the parent's outcome, naming jobs by their names.
    private static func outcome(of root: PeerFlowNode, client: RedisClient) async throws -> PolicyOutcome {
        let queue = try Queue(root.queue, client: client)
        var names: [String: String] = [:]
        for child in root.children { names["bull:\(child.queue):\(child.id)"] = child.name }
        func named(_ keys: Set<String>) -> Set<String> { Set(keys.map { names[$0] ?? $0 }) }
        let parent = try #require(try await queue.getJob(root.id))
        let key = "bull:\(root.queue):\(root.id)"
        var failure = parent.failedReason
        for (jobKey, name) in names { failure = failure?.replacingOccurrences(of: jobKey, with: name) }
        let ignored = try await hashFields(client, key + ":failed")
        return PolicyOutcome(
            parentState: try await queue.getState(root.id).rawValue, parentFailure: failure,
            pending: named(try await members(client, key + ":dependencies")),
            processed: named(try await members(client, key + ":processed")),
            ignoredFailures: Dictionary(uniqueKeysWithValues: ignored.map { (names[$0.key] ?? $0.key, $0.value) }),
            unsuccessful: named(try await members(client, key + ":unsuccessful")))
    }

    @Test("each failure option behaves on Tributary workers as on Python workers, for a Python FlowProducer tree",
          arguments: ["fpof", "idof", "rdof", "cpof", nil] as [String?])
    func failureOptionsMatchPython(flag: String?) async throws {
        try await withPeer { server, client, peer in
            // Python runs one copy of the tree...
            let pythonRoot = try await peer.flow(Self.tree(queue: "py", flag: flag), redisURL: server.tcpURL, queue: "py")
            let finalOutcomes = flag == nil ? 2 : 3
            _ = try await peer.work(redisURL: server.tcpURL, queue: "py", count: finalOutcomes, failNames: ["bad"],
                                    timeout: .seconds(40))
            let python = try await Self.outcome(of: pythonRoot, client: client)

            // ...and Tributary's workers run another copy, also added by Python.
            let root = try await peer.flow(Self.tree(queue: "sw", flag: flag), redisURL: server.tcpURL, queue: "sw")
            let queue = try Queue("sw", client: client)
            let worker = try Worker(queue: "sw", client: client) { job in
                if job.name == "bad" { throw PeerStyleFailure(name: job.name) }
                return ["by": "tributary", "name": .string(job.name)]
            }
            try await withWorkers([worker]) { () async throws in
                let badId = try #require(root.children.first { $0.name == "bad" }?.id)
                #expect(try await eventually { try await queue.getState(badId) == .failed })
                if flag != nil {
                    #expect(try await eventually {
                        let state = try await queue.getState(root.id)
                        return state == .completed || state == .failed
                    })
                } else {
                    try await Task.sleep(for: .milliseconds(300))
                }
            }
            let tributary = try await Self.outcome(of: root, client: client)
            #expect(tributary == python, "Python: \(python)\nTributary: \(tributary)")
            #expect(tributary.parentState == (flag == "fpof" ? "failed" : flag == nil ? "waiting-children" : "completed"))
        }
    }
}
