import Foundation
import Testing
@testable import Tributary

/// Encrypted fields through the CLI: `run` refuses without keys, `validate` places bad paths, `run --work` hands
/// command steps plaintext while Redis keeps envelopes, and `job show`/`flow show` draw them as encrypted.
@Suite("CLI encryption")
struct CLIEncryptionTests {
    static let noKeys = ["TRIBUTARY_KEYS": "", "TRIBUTARY_KEYS_FILE": ""]
    static let keys = ["TRIBUTARY_KEYS": "k1:\(TestKeys.k1)", "TRIBUTARY_KEYS_FILE": ""]

    static func flow(_ command: String) -> String {
        """
        {"flow": "login", "queue": "secure", "encrypt": ["password"], "nodes": {
          "check": {"data": {"user": "ada"}, "encryptResult": true,
                    "run": ["sh", "-c", \(JSONValue.string(command).serialized())]}}}
        """
    }

    @Test("run refuses a flow asking for encryption when no key is configured: exit 2, nothing stored")
    func runWithoutKeys() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("secure") { queue, _, server in
                try Self.flow("cat").write(toFile: directory + "/login.json", atomically: true, encoding: .utf8)
                let result = try await CLIProcess.run(["run", "login.json", "--run-id", "r1", "--data", #"{"password": "hunter2"}"#,
                                                       "--redis", server.unixURL], in: directory, environment: Self.noKeys)
                #expect(result.status == 2, "\(result)")
                #expect(result.stderr.contains("no keys are configured") && result.stderr.contains("TRIBUTARY_KEYS"), "\(result)")
                #expect(try await queue.getJob("r1.check") == nil)
                // Refused before Redis is asked anything (no server answers on port 1: that would be exit 3), and for
                // encryptResult alone too.
                try #"{"flow": "f", "queue": "secure", "encryptResult": true, "nodes": {"a": {}}}"#
                    .write(toFile: directory + "/result.json", atomically: true, encoding: .utf8)
                let early = try await CLIProcess.run(["run", "result.json", "--redis", "redis://127.0.0.1:1"], in: directory,
                                                     environment: Self.noKeys)
                #expect(early.status == 2 && early.stderr.contains("node 'a': encrypt/encryptResult"), "\(early)")
                // A key list that is not usable is named, also exit 2.
                let bad = try await CLIProcess.run(["run", "login.json", "--redis", server.unixURL], in: directory,
                                                   environment: ["TRIBUTARY_KEYS": "k1:QUJD"])
                #expect(bad.status == 2 && bad.stderr.contains("key 'k1' has 3 bytes"), "\(bad)")
            }
        }
    }

    @Test("job add --encrypt stores the field encrypted; without keys it exits 2 and adds nothing")
    func jobAddEncrypt() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("secure") { queue, client, server in
                let arguments = ["job", "add", "login", "--queue", "secure", "--data", #"{"user": "ada", "pin": 1234}"#,
                                 "--encrypt", "pin", "--encrypt-result", "--json", "--redis", server.unixURL]
                let refused = try await CLIProcess.run(arguments, in: directory, environment: Self.noKeys)
                #expect(refused.status == 2 && refused.stderr.contains("--encrypt needs keys"), "\(refused)")
                #expect(try await queue.getJobCounts().waiting == 0)
                let added = try await CLIProcess.run(arguments, in: directory, environment: Self.keys)
                #expect(added.status == 0, "\(added)")
                let id = try #require(try added.json()["id"]?.stringValue)
                let stored = try await hashFields(client, "bull:secure:\(id)")
                let data = try JSONValue.parse(stored["data"]!)
                #expect(data["user"] == "ada" && stored["encryptResult"] == "1")
                #expect(try TestKeys.cipher().open(data["pin"]!, path: "pin") == 1234)
            }
        }
    }

    @Test("validate places a bad encrypt path at its line and column")
    func validateBadPath() async throws {
        try await withCLIDirectory { directory in
            let text = """
                {"flow": "f", "queue": "q", "nodes": {
                  "a": {"data": {"card": {"number": 1}},
                        "encrypt": ["card..number", 7]}}}
                """
            try text.write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
            let result = try await CLIProcess.run(["validate", "bad.json"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("bad.json:3:21: nodes.a.encrypt[0]: path 'card..number' has an empty segment"), "\(result)")
            #expect(result.stderr.contains("bad.json:3:37: nodes.a.encrypt[1]: must be a field path"), "\(result)")
        }
    }

    @Test("run --work: the command step reads plaintext on stdin; Redis, job show and flow show only see envelopes")
    func runWithKeys() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("secure") { _, client, server in
                let got = directory + "/stdin.json"
                try Self.flow("cat > \(got); echo '{\"ok\": true}'").write(toFile: directory + "/login.json", atomically: true,
                                                                            encoding: .utf8)
                let run = try await CLIProcess.run(["run", "login.json", "--run-id", "r1", "--work", "--allow-commands",
                                                    "--data", #"{"password": "hunter2"}"#, "--redis", server.unixURL],
                                                   in: directory, environment: Self.keys)
                #expect(run.status == 0, "\(run)")
                let stdin = try JSONValue.parse(String(contentsOfFile: got, encoding: .utf8))
                #expect(stdin["data"] == ["user": "ada", "password": "hunter2"])
                let stored = try await hashFields(client, "bull:secure:r1.check")
                #expect(!stored["data"]!.contains("hunter2") && !stored["returnvalue"]!.contains("ok"))
                let cipher = try TestKeys.cipher()
                #expect(try cipher.open(try JSONValue.parse(stored["data"]!)["password"]!, path: "password") == "hunter2")
                #expect(try cipher.open(try JSONValue.parse(stored["returnvalue"]!), path: "returnvalue") == ["ok": true])

                let show = try await CLIProcess.run(["job", "show", "r1.check", "--queue", "secure", "--redis", server.unixURL],
                                                    in: directory, environment: Self.keys)
                #expect(show.status == 0 && show.stdout.contains(#""password": "<encrypted A256GCM kid=k1>""#), "\(show)")
                #expect(show.stdout.contains("result:     \"<encrypted A256GCM kid=k1>\""), "\(show)")
                #expect(!show.stdout.contains("hunter2"))
                let flow = try await CLIProcess.run(["flow", "show", "r1", "--redis", server.unixURL], in: directory)
                #expect(flow.status == 0 && flow.stdout.contains("→ \"<encrypted A256GCM kid=k1>\""), "\(flow)")
            }
        }
    }
}
