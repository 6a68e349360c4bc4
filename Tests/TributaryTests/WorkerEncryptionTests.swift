import Synchronization
import Testing
@testable import Tributary

/// Encrypted fields end to end in one process: producers seal, Redis holds only envelopes, workers with the key
/// decrypt before the handler, workers without it fail the job at once naming the key id.
@Suite("Worker encryption")
struct WorkerEncryptionTests {
    @Test("the handler gets plaintext; Redis holds envelopes; an encryptResult result is stored sealed")
    func decryptBeforeHandler() async throws {
        try await withQueue("vault") { _, client, _ in
            let cipher = try TestKeys.cipher()
            let queue = try Queue("vault", client: client, cipher: cipher)
            let seen = Mutex<JSONValue?>(nil)
            let worker = try Worker(queue: "vault", client: client, options: .init(cipher: cipher)) { job in
                seen.withLock { $0 = job.data }
                return ["charged": job.data["card"]?["number"] ?? .null]
            }
            let data: JSONValue = ["user": "ada", "password": "hunter2", "card": ["number": "4111-1111", "exp": "12/30"]]
            let job = try await queue.add("charge", data: data,
                                          options: .init(encrypt: ["password", "card.number"], encryptResult: true))
            #expect(job.data["user"] == "ada" && FieldEnvelope.isEnvelope(job.data["password"]!))
            let stored = try await hashFields(client, "bull:vault:\(job.id)")
            #expect(!stored["data"]!.contains("hunter2") && !stored["data"]!.contains("4111"))
            #expect(stored["encryptResult"] == "1")
            #expect(!stored["opts"]!.contains("encrypt"), "BullMQ's opts stay as they were")
            try await withWorkers([worker]) { () async throws in
                _ = try await queue.waitUntilFinished(job.id)
            }
            #expect(seen.withLock { $0 } == data)
            let done = try #require(try await queue.getJob(job.id))
            let result = try #require(done.returnValue)
            #expect(FieldEnvelope.isEnvelope(result) && !done.fields["returnvalue"]!.contains("4111"))
            #expect(try cipher.open(result, path: "returnvalue") == ["charged": "4111-1111"])
        }
    }

    @Test("a worker without the key fails the job at once, no retry, with a reason naming the key id")
    func missingKeyFailsWithoutRetry() async throws {
        try await withQueue("vault") { _, client, _ in
            let queue = try Queue("vault", client: client, cipher: try TestKeys.cipher())
            let ran = Mutex(0)
            let noKeys = try Worker(queue: "vault", client: client) { _ in
                ran.withLock { $0 += 1 }
                return .null
            }
            let job = try await queue.add("charge", data: ["pin": 1234], options: .init(attempts: 5, encrypt: ["pin"]))
            try await withWorkers([noKeys]) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.attemptsMade == 1, "no retries burnt")
            #expect(failed.failedReason?.contains("key 'k1'") == true, "\(failed.failedReason ?? "")")
            #expect(failed.failedReason?.contains("'pin'") == true)
            #expect(ran.withLock { $0 } == 0)

            // Another key set (k2 only): the same, naming the missing key.
            let other = try await queue.add("charge", data: ["pin": 1], options: .init(attempts: 5, encrypt: ["pin"]))
            let wrongKeys = try Worker(queue: "vault", client: client, options: .init(cipher: try TestKeys.cipher("k2:\(TestKeys.k2)"))) { _ in
                ran.withLock { $0 += 1 }
                return .null
            }
            try await withWorkers([wrongKeys]) { () async throws in
                #expect(try await eventually { try await queue.getState(other.id) == .failed })
            }
            let second = try #require(try await queue.getJob(other.id))
            #expect(second.attemptsMade == 1 && second.failedReason?.contains("key 'k1'") == true)
            #expect(ran.withLock { $0 } == 0)
        }
    }

    @Test("updateData from a handler stores the decrypted fields encrypted again")
    func updateDataReseals() async throws {
        try await withQueue("vault") { _, client, _ in
            let cipher = try TestKeys.cipher()
            let queue = try Queue("vault", client: client, cipher: cipher)
            let worker = try Worker(queue: "vault", client: client, options: .init(cipher: cipher)) { job in
                guard case .object(var data) = job.data else { return .null }
                data["step"] = 2
                try await job.updateData(.object(data))
                return .null
            }
            let job = try await queue.add("charge", data: ["pins": [1111, 2222], "card": ["number": "4111"]],
                                          options: .init(encrypt: ["card.number", "pins.1"]))
            try await withWorkers([worker]) { () async throws in
                _ = try await queue.waitUntilFinished(job.id)
            }
            let stored = try await hashFields(client, "bull:vault:\(job.id)")["data"]!
            #expect(!stored.contains("4111") && !stored.contains("2222") && stored.contains("1111"), "\(stored)")
            let data = try JSONValue.parse(stored)
            #expect(data["step"] == 2 && data["pins"]?[0] == 1111)
            #expect(try data.decryptingFields(with: cipher) == ["pins": [1111, 2222], "card": ["number": "4111"], "step": 2])
        }
    }

    @Test("a BullMQ-style flow: the parent's childrenValues are decrypted in its handler, stored sealed outside")
    func childrenValuesDecrypted() async throws {
        try await withQueue("tree") { queue, client, _ in
            let cipher = try TestKeys.cipher()
            let flows = FlowProducer(client: client, cipher: cipher)
            let tree = try await flows.add(FlowJob("parent", queue: "tree", children: [
                FlowJob("child", queue: "tree", data: ["n": 7], options: .init(encryptResult: true)),
            ]))
            let seen = Mutex<[String: JSONValue]>([:])
            let worker = try Worker(queue: "tree", client: client, options: .init(cipher: cipher)) { job in
                if job.name == "child" { return ["secret": job.data["n"] ?? .null] }
                let values = try await job.childrenValues()
                seen.withLock { $0 = values }
                return .null
            }
            try await withWorkers([worker]) { () async throws in
                _ = try await queue.waitUntilFinished(tree.job.id)
            }
            let childKey = "bull:tree:\(tree.children[0].job.id)"
            #expect(seen.withLock { $0 } == [childKey: ["secret": 7]])
            let outside = try await tree.job.childrenValues(client: client)
            #expect(outside.count == 1 && FieldEnvelope.isEnvelope(outside[childKey]!))
        }
    }

    @Test("a job asking for an encrypted result fails at once on a worker without keys, before its handler runs")
    func encryptResultNeedsKeys() async throws {
        try await withQueue("vault") { queue, client, _ in
            let ran = Mutex(0)
            let worker = try Worker(queue: "vault", client: client) { _ in
                ran.withLock { $0 += 1 }
                return "secret"
            }
            let job = try await queue.add("report", options: .init(attempts: 3, encryptResult: true))
            try await withWorkers([worker]) { () async throws in
                #expect(try await eventually { try await queue.getState(job.id) == .failed })
            }
            let failed = try #require(try await queue.getJob(job.id))
            #expect(failed.attemptsMade == 1 && failed.failedReason?.contains("encryptResult") == true)
            #expect(ran.withLock { $0 } == 0)
        }
    }

    @Test("adding: encryption without keys, or of a missing field, is refused and nothing is stored")
    func refusedAdds() async throws {
        try await withQueue("vault") { plain, client, _ in
            let noKeys = await #expect(throws: FieldCipherError.self) {
                try await plain.add("charge", data: ["pin": 1], options: .init(encrypt: ["pin"]))
            }
            #expect(noKeys?.code == .noKeys && noKeys?.message.contains("'pin'") == true)
            let queue = try Queue("vault", client: client, cipher: try TestKeys.cipher())
            let missing = await #expect(throws: FieldCipherError.self) {
                try await queue.add("charge", data: ["pin": 1], options: .init(encrypt: ["card.number"]))
            }
            #expect(missing?.code == .missingField)
            let overlap = await #expect(throws: QueueError.self) {
                try await queue.add("charge", data: ["card": ["n": 1]], options: .init(encrypt: ["card", "card.n"]))
            }
            #expect(overlap?.code == .invalidOption)
            #expect(try await queue.getJobCounts().waiting == 0)
        }
    }

    @Test("a flow run: encrypted node data and results; the dependent gets its input in plaintext")
    func flowRunInputs() async throws {
        try await withQueue("dag") { dag, client, _ in
            let cipher = try TestKeys.cipher()
            let plan = try compiledFlow("""
                {"flow": "secrets", "queue": "dag", "encrypt": ["token"], "encryptResult": true, "nodes": {
                  "fetch": {"data": {"token": "t-123", "account": {"iban": "DE00"}}, "encrypt": ["account.iban"]},
                  "use": {"needs": "fetch", "data": {"other": 1}, "encryptResult": false}}}
                """)
            #expect(plan.node("fetch")?.options.encrypt == ["account.iban", "token"])
            #expect(plan.node("use")?.options.encrypt == [], "a top-level path applies only where the data has it")
            #expect(plan.node("fetch")?.options.encryptResult == true && plan.node("use")?.options.encryptResult == false)
            let refused = await #expect(throws: FieldCipherError.self) { try await FlowProducer(client: client).submit(plan) }
            #expect(refused?.code == .noKeys)
            let flows = FlowProducer(client: client, cipher: cipher)
            try await flows.submit(plan, runId: "r1")
            let fetch = try await hashFields(client, "bull:dag:r1.fetch")
            #expect(!fetch["data"]!.contains("t-123") && !fetch["data"]!.contains("DE00"))
            let inputs = Mutex<[String: JSONValue]>([:])
            let worker = try Worker(queue: "dag", client: client, options: .init(cipher: cipher)) { job in
                if job.flowNodeId == "fetch" { return ["iban": job.data["account"]?["iban"] ?? .null, "token": job.data["token"] ?? .null] }
                inputs.withLock { $0 = job.inputs }
                return "used"
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await dag.waitUntilFinished("r1.use") == "used")
            }
            #expect(inputs.withLock { $0 } == ["fetch": ["iban": "DE00", "token": "t-123"]])
            let stored = try await hashFields(client, "bull:dag:r1.fetch")
            #expect(FieldEnvelope.isEnvelope(try JSONValue.parse(stored["returnvalue"]!)))
        }
    }
}
