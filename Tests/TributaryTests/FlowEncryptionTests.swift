import Synchronization
import Testing
@testable import Tributary

/// `encrypt` and `encryptResult` in flow files, and encrypted fields in map nodes.
@Suite("Flow files: encrypted fields")
struct FlowEncryptionTests {
    @Test("bad paths are reported at their place, every one of them")
    func badPaths() {
        let problems = flowProblems("""
            {"flow": "f", "queue": "q", "encrypt": "password", "encryptResult": 1, "nodes": {
              "a": {"data": {"card": {"n": 1}}, "encrypt": ["", "card..n", 3, "card", "card.n", "card"]},
              "b": {"encrypt": {}, "encryptResult": "yes"}}}
            """)
        #expect(problems == [
            #"flow.json: encrypt: must be an array of field paths such as ["password", "card.number"], got a string"#,
            "flow.json: encryptResult: must be true or false, got 1",
            "flow.json: nodes.a.encrypt[0]: a path to encrypt must not be empty",
            "flow.json: nodes.a.encrypt[1]: path 'card..n' has an empty segment; write member names separated by single dots, e.g. card.number",
            #"flow.json: nodes.a.encrypt[2]: must be a field path (a string such as "card.number"), got an integer"#,
            "flow.json: nodes.a.encrypt[4]: 'card' and 'card.n' overlap: encrypting the outer one covers the inner one; keep one",
            "flow.json: nodes.a.encrypt[5]: 'card' is given twice",
            #"flow.json: nodes.b.encrypt: must be an array of field paths such as ["password", "card.number"], got an object"#,
            "flow.json: nodes.b.encryptResult: must be true or false, got 'yes'",
        ], "\(problems)")
    }

    @Test("a top-level path that overlaps a node's own is a conflict; equal ones merge")
    func topLevelOverlap() throws {
        let problems = flowProblems(flowWithNodes(#""a": {"data": {"card": {"n": 1}}, "encrypt": ["card.n"]}"#)
            .replacingOccurrences(of: #""queue": "q","#, with: #""queue": "q", "encrypt": ["card"],"#))
        #expect(problems == ["flow.json: nodes.a.encrypt: 'card.n' overlaps the top-level encrypt path 'card': encrypting "
            + "the outer one covers the inner one; keep one"])
        let plan = try compiledFlow(#"{"flow": "f", "queue": "q", "encrypt": ["pin"], "nodes": {"a": {"data": {"pin": 1}, "encrypt": ["pin"]}}}"#)
        #expect(plan.node("a")?.options.encrypt == ["pin"])
    }

    @Test("a map node's items keep the node's envelopes in Redis; each item's handler sees plaintext")
    func mapItemsStayEncrypted() async throws {
        try await withQueue("m") { queue, client, _ in
            let cipher = try TestKeys.cipher()
            let plan = try compiledFlow("""
                {"flow": "f", "queue": "m", "nodes": {
                  "each": {"data": {"token": "s3cret"}, "encrypt": ["token"], "encryptResult": true,
                           "map": {"items": [1, 2, 3]}},
                  "sum": {"needs": "each"}}}
                """)
            try await FlowProducer(client: client, cipher: cipher).submit(plan, runId: "r")
            let tokens = Mutex<[String]>([])
            let worker = try Worker(queue: "m", client: client, options: .init(concurrency: 4, cipher: cipher)) { job in
                if let index = job.mapIndex {
                    tokens.withLock { $0.append(job.data["token"]?.stringValue ?? "?") }
                    return .int(Int64(index) * 10)
                }
                return job.inputs["each"] ?? .null
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await queue.waitUntilFinished("r.sum") == [0, 10, 20])
            }
            #expect(tokens.withLock { $0 } == ["s3cret", "s3cret", "s3cret"])
            for index in 0..<3 {
                let item = try await hashFields(client, "bull:m:r.each/\(index)")
                let data = try JSONValue.parse(item["data"]!)
                #expect(!item["data"]!.contains("s3cret") && FieldEnvelope.isEnvelope(data["token"]!))
                #expect(item["encryptResult"] == "1")
                #expect(try cipher.open(try JSONValue.parse(item["returnvalue"]!), path: "returnvalue") == .int(Int64(index) * 10))
            }
        }
    }
}
