import Foundation
import Synchronization
import Testing
@testable import Tributary

/// Encrypted fields between Tributary and Python: the snippet of docs/production.md (run as written there, with the
/// `cryptography` package of the venv) decrypts what Tributary stored, and a field it encrypts, in a job Python
/// bullmq adds, is decrypted by a Tributary worker.
@Suite("Interop: encrypted fields")
struct InteropEncryptionTests {
    /// The Python block after `<!-- snippet: tributary_fields.py` in docs/production.md, written to a file.
    static func snippet(in directory: String) throws -> String {
        let page = try String(contentsOfFile: PythonPeer.repositoryRoot + "/docs/production.md", encoding: .utf8)
        let marker = try #require(page.range(of: "<!-- snippet: tributary_fields.py"))
        let rest = page[marker.upperBound...]
        let open = try #require(rest.range(of: "```python\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```\n"))
        let path = directory + "/tributary_fields.py"
        try String(rest[open.upperBound..<close.lowerBound]).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the snippet with the venv's Python, the keys and the Redis URL in its environment; returns its stdout
    /// parsed as JSON.
    static func runSnippet(_ script: String, _ arguments: [String], keys: String, redisURL: String,
                           peer: PythonPeer) async throws -> JSONValue {
        let result = try await TestProcess.runDetached(
            "/usr/bin/env", ["TRIBUTARY_KEYS=\(keys)", "REDIS_URL=\(redisURL)", peer.python, "-I", script] + arguments)
        #expect(result.status == 0, "\(result)")
        return try JSONValue.parse(result.stdout)
    }

    @Test("the documented Python snippet decrypts a field and a result Tributary stored, with rotated keys")
    func pythonDecryptsTributary() async throws {
        let peer = try PythonPeer.locate()
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try Self.snippet(in: directory)
        try await withQueue("payments") { _, client, server in
            let cipher = try TestKeys.cipher()
            let queue = try Queue("payments", client: client, cipher: cipher)
            let worker = try Worker(queue: "payments", client: client, options: .init(cipher: cipher)) { job in
                ["last4": .string(String(job.data["card"]?["number"]?.stringValue?.suffix(4) ?? ""))]
            }
            let job = try await queue.add("charge", data: ["card": ["number": "4111 1111 1111 1234", "exp": "12/30"]],
                                          options: .init(encrypt: ["card.number"], encryptResult: true))
            try await withWorkers([worker]) { () async throws in
                _ = try await queue.waitUntilFinished(job.id)
            }
            // Python holds the new key first and the old one after it, as during a rotation.
            let keys = "k2:\(TestKeys.k2),k1:\(TestKeys.k1)"
            let number = try await Self.runSnippet(script, ["decrypt", job.key, "card.number"], keys: keys,
                                                   redisURL: server.unixURL, peer: peer)
            #expect(number == "4111 1111 1111 1234")
            let result = try await Self.runSnippet(script, ["decrypt", job.key, "returnvalue"], keys: keys,
                                                   redisURL: server.unixURL, peer: peer)
            #expect(result == ["last4": "1234"])
            // A path that holds no envelope is refused with its name.
            let moved = try await TestProcess.runDetached("/usr/bin/env", [
                "TRIBUTARY_KEYS=\(keys)", "REDIS_URL=\(server.unixURL)", peer.python, "-I", script, "decrypt", job.key, "card",
            ])
            #expect(moved.status != 0 && moved.stderr.contains("card is not an A256GCM envelope"), "\(moved)")
        }
    }

    @Test("a field the snippet encrypts, in a job Python bullmq adds, reaches a Tributary handler in plaintext")
    func tributaryDecryptsPython() async throws {
        let peer = try PythonPeer.locate()
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = try Self.snippet(in: directory)
        try await withQueue("logins") { queue, client, server in
            let envelope = try await Self.runSnippet(script, ["encrypt", "account.password", #""hunter2""#],
                                                     keys: "k1:\(TestKeys.k1)", redisURL: server.unixURL, peer: peer)
            #expect(envelope["$enc"] == "A256GCM" && envelope["kid"] == "k1")
            let ids = try await peer.addJobs([PeerJob("login", data: ["account": ["user": "ada", "password": envelope]])],
                                             redisURL: server.unixURL, queue: "logins")
            let seen = Mutex<JSONValue?>(nil)
            // Keys rotated on the Tributary side: k2 encrypts now, k1 still decrypts.
            let worker = try Worker(queue: "logins", client: client,
                                    options: .init(cipher: try TestKeys.cipher("k2:\(TestKeys.k2),k1:\(TestKeys.k1)"))) { job in
                seen.withLock { $0 = job.data }
                return "ok"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await queue.waitUntilFinished(ids[0]) == "ok")
            }
            #expect(seen.withLock { $0 } == ["account": ["user": "ada", "password": "hunter2"]])
        }
    }
}
