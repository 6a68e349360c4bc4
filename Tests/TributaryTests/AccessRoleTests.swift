import Foundation
import Testing
@testable import Tributary

/// The least-privilege users of docs/production.md, created on a real server: each role works with its own user,
/// and nothing more.
@Suite("Least-privilege Redis users")
struct AccessRoleTests {
    private static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Every command name written literally in the library's Swift code (not in comments) and Lua scripts.
    private func commandsInSources() throws -> Set<String> {
        var found: Set<String> = []
        let swift = try NSRegularExpression(pattern: #"RedisCommand\("([A-Za-z]+)"(?:, "([A-Z]+)")?"#)
        let lua = try NSRegularExpression(pattern: #"redis\.p?call\(\s*["']([A-Za-z]+)["']"#)
        let enumerator = FileManager.default.enumerator(atPath: Self.sources.appendingPathComponent("Tributary").path)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") || path.hasSuffix(".lua") else { continue }
            let text = try String(contentsOf: Self.sources.appendingPathComponent("Tributary/" + path), encoding: .utf8)
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("///")
                && !line.trimmingCharacters(in: .whitespaces).hasPrefix("--") {
                let line = String(line)
                let range = NSRange(line.startIndex..., in: line)
                for match in (path.hasSuffix(".lua") ? lua : swift).matches(in: line, range: range) {
                    var name = String(line[Range(match.range(at: 1), in: line)!]).lowercased()
                    if match.numberOfRanges > 2, let sub = Range(match.range(at: 2), in: line) {
                        name += "|" + line[sub].lowercased()
                    }
                    found.insert(name)
                }
            }
        }
        return found
    }

    @Test("the worker role covers every command the library sends or its scripts call (but the ones left out on purpose)")
    func coversTheSources() throws {
        let used = try commandsInSources()
        #expect(used.count > 40 && used.contains("evalsha") == false)  // EVALSHA is built in RedisScript, not literally
        // AUTH is always allowed; CONFIG GET is optional; CLIENT LIST (Queue.getWorkers) shows every client of the
        // server and is not granted; SHUTDOWN and INFO all belong to the CLI's embedded server.
        let leftOut: Set<String> = ["auth", "config|get", "client|list", "shutdown"]
        let dynamic = ["hscan", "sscan", "zscan", "lpush", "rpush", "evalsha", "script|load"]  // names built at run time
        let granted = Set(RedisAccessRole.worker.commands)
        #expect(used.subtracting(leftOut).subtracting(granted).sorted() == [])
        #expect(Set(dynamic).subtracting(granted).isEmpty)
        #expect(Set(RedisAccessRole.producer.commands) == granted.subtracting(["bzpopmin"]))
        #expect(Set(RedisAccessRole.reader.commands).isDisjoint(with: RedisAccessRole.writes))
    }

    @Test("docs/production.md gives the exact ACL SETUSER lines of the three roles")
    func documented() throws {
        let docs = Self.sources.deletingLastPathComponent().appendingPathComponent("docs/production.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for (role, user) in [(RedisAccessRole.worker, "tributary-worker"), (.producer, "tributary-producer"), (.reader, "tributary-reader")] {
            let line = role.setUserCommand(user: user)
            #expect(text.contains(line), "missing from docs/production.md: \(line)")
        }
    }

    /// A server with the three users on prefix `bull`, created with the documented lines.
    private func withRoleUsers(_ body: (TestRedisServer, (RedisAccessRole) -> String) async throws -> Void) async throws {
        try await withRedisServer { server in
            for role in RedisAccessRole.allCases {
                _ = try server.cli(arguments: ["ACL"] + role.setUserArguments(user: "t-\(role.rawValue)", password: "pw-\(role.rawValue)"))
            }
            try await body(server) { role in "redis://t-\(role.rawValue):pw-\(role.rawValue)@127.0.0.1:\(server.port)" }
        }
    }

    private func isNoPermission(_ error: any Error) -> Bool {
        "\(error)".contains("NOPERM")
    }

    @Test("producer adds jobs and submits a run, the worker runs them, the reader reads them, each with its own user")
    func rolesWork() async throws {
        try await withRoleUsers { _, url in
            let producer = try await RedisClient.connect(url: url(.producer))
            let worker = try await RedisClient.connect(url: url(.worker))
            let reader = try await RedisClient.connect(url: url(.reader))
            defer { Task { await producer.close(); await worker.close(); await reader.close() } }
            for client in [producer, worker, reader] { _ = try await client.checkQueueRequirements() }

            let queue = try Queue("acl", client: producer)
            let job = try await queue.add("plain", data: ["n": 1])
            let receipt = try await FlowProducer(client: producer).submit(try compiledFlow("""
                {"flow": "acl-flow", "queue": "acl", "nodes": {"a": {}, "b": {"needs": "a"}, "c": {"needs": "a"},
                  "d": {"needs": ["b", "c"]}, "each": {"needs": "a", "map": {"items": [1, 2, 3]}}}}
                """), runId: "r1")
            let running = try Worker(queue: "acl", client: worker, options: .init(concurrency: 4)) { job in
                job.mapItem ?? .string(job.flowNodeId ?? job.name)
            }
            try await withWorkers([running]) { () async throws in
                #expect(try await eventually(.seconds(30)) { try await queue.getState(job.id) == .completed })
                #expect(try await eventually(.seconds(30)) {
                    try await FlowProducer(client: producer).getFlowRun(receipt.runId)?.status == .completed
                })
            }
            // The reader sees everything.
            let readQueue = try Queue("acl", client: reader)
            #expect(try await readQueue.getJob(job.id)?.returnValue == "plain")
            #expect(try await readQueue.getJobCounts().completed >= 6)
            let run = try #require(try await FlowProducer(client: reader).getFlowRun("r1"))
            #expect(run.status == .completed && run.nodes.count == 5)
        }
    }

    @Test("the producer cannot touch another prefix; the reader cannot change anything; both see NOPERM")
    func refusals() async throws {
        try await withRoleUsers { server, url in
            let producer = try await RedisClient.connect(url: url(.producer))
            let reader = try await RedisClient.connect(url: url(.reader))
            defer { Task { await producer.close(); await reader.close() } }
            _ = try await Queue("acl", client: producer).add("kept", data: ["n": 1])

            let elsewhere = try Queue("acl", client: producer, prefix: "other")
            await #expect { try await elsewhere.add("x") } throws: { isNoPermission($0) }
            await #expect { try await elsewhere.getJobCounts() } throws: { isNoPermission($0) }
            await #expect { try await FlowProducer(client: producer, prefix: "other").add(FlowJob("p", queue: "acl")) } throws: {
                isNoPermission($0)
            }
            await #expect { try await producer.send(RedisCommand("BZPOPMIN", "bull:acl:marker", 1)) } throws: { isNoPermission($0) }

            let readQueue = try Queue("acl", client: reader)
            await #expect { try await readQueue.add("x") } throws: { isNoPermission($0) }
            await #expect { try await readQueue.pause() } throws: { isNoPermission($0) }
            await #expect { try await readQueue.obliterate(force: true) } throws: { isNoPermission($0) }
            await #expect { try await reader.send(RedisCommand("DEL", "bull:acl:1")) } throws: { isNoPermission($0) }
            await #expect { try await reader.run(RedisScript(source: #"return redis.call("DEL", KEYS[1])"#), keys: ["bull:acl:1"], arguments: []) } throws: {
                isNoPermission($0)
            }
            await #expect { try await FlowProducer(client: reader).submit(try compiledFlow(#"{"flow": "f", "queue": "acl", "nodes": {"a": {}}}"#)) } throws: {
                isNoPermission($0)
            }
            // Nothing changed: the one job is still there, nothing else was written under either prefix.
            #expect(try server.cli("EXISTS", "bull:acl:1") == "1")
            #expect(try server.cli("KEYS", "other:*") == "")
            #expect(try server.cli("HGET", "bull:acl:1", "name") == "kept")
        }
    }

    @Test("CLI: stats and flow show work for the reader; run is refused with NOPERM (exit 3), the password never shown")
    func cli() async throws {
        try await withRoleUsers { _, url in
            try await withCLIDirectory { directory in
                let file = directory + "/flow.json"
                try #"{"flow": "f", "queue": "acl", "nodes": {"a": {}}}"#.write(toFile: file, atomically: true, encoding: .utf8)
                let submitted = try await CLIProcess.run(["run", file, "--run-id", "r", "--redis", url(.producer)], in: directory)
                #expect(submitted.status == 0, "\(submitted)")
                let stats = try await CLIProcess.run(["stats", "--json", "--redis", url(.reader)], in: directory)
                #expect(stats.status == 0 && stats.stdout.contains("acl"), "\(stats)")
                let show = try await CLIProcess.run(["flow", "show", "r", "--redis", url(.reader)], in: directory)
                #expect(show.status == 0 && show.stdout.contains("a"), "\(show)")
                let refused = try await CLIProcess.run(["run", file, "--redis", url(.reader)], in: directory)
                #expect(refused.status == 3 && refused.stderr.contains("the user lacks the permission (NOPERM"), "\(refused)")
                for result in [submitted, stats, show, refused] {
                    #expect(!result.stdout.contains("pw-") && !result.stderr.contains("pw-"), "\(result)")
                }
            }
        }
    }
}
