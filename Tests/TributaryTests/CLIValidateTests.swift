import Foundation
import Testing
@testable import Tributary
@testable import tributary

@Suite("CLI validate")
struct CLIValidateTests {
    static let bad = """
        {
          "flow": "bad",
          "queue": "q",
          "nodes": {
            "a": {"data": 1, "opts": {"attempts": "three"}},
            "b": {"needs": ["a", "zz"], "onFailure": "explode"},
            "c": {"needs": "d"},
            "d": {"needs": "c"}
          }
        }
        """

    @Test("every problem of every file, with file:line:column; exit 2; valid files say ok")
    func problemsWithPositions() async throws {
        try await withCLIDirectory { directory in
            try Self.bad.write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
            try "{\"flow\": \"x\",\n \"nodes\": {\"a\": {,}}}".write(toFile: directory + "/syntax.json", atomically: true, encoding: .utf8)
            try #"{"flow": "ok", "queue": "q", "nodes": {"a": {}, "b": {"needs": "a"}}}"#
                .write(toFile: directory + "/good.json", atomically: true, encoding: .utf8)

            let result = try await CLIProcess.run(["validate", "bad.json", "syntax.json", "good.json", "missing.json"], in: directory)
            #expect(result.status == 2, "\(result)")
            #expect(result.stdout == "good.json: ok (flow 'ok', 2 nodes, queues: q)\n")
            let lines = result.stderr.split(separator: "\n").map(String.init)
            #expect(lines.contains("bad.json:5:31: nodes.a.opts.attempts: must be an integer >= 0 (0 and 1 both mean one attempt), got 'three'"))
            #expect(lines.contains("bad.json:6:26: nodes.b.needs[1]: unknown node 'zz'"))
            #expect(lines.contains { $0.hasPrefix("bad.json:6:33: nodes.b.onFailure: must be one of") })
            #expect(lines.contains { $0.hasPrefix("bad.json:7:5: nodes.c: cycle: c -> d -> c") })
            #expect(lines.contains("syntax.json:2:18: string or '}' expected near ','"))
            #expect(lines.contains { $0.hasPrefix("missing.json: cannot read the file") })
            #expect(lines.last == "3 of 4 file(s) invalid")

            let valid = try await CLIProcess.run(["validate", "good.json"], in: directory)
            #expect(valid.status == 0, "\(valid)")

            let json = try await CLIProcess.run(["validate", "bad.json", "--json"], in: directory)
            #expect(json.status == 2)
            let report = try #require(try json.json()[0])
            #expect(report["valid"] == false)
            let first = try #require(report["problems"]?[0])
            #expect(first["code"] == "invalidOption" && first["line"] == 5 && first["column"] == 31 && first["node"] == "a")
        }
    }

    @Test("paths are located in the text: quoted keys, indices, and the deepest part that exists")
    func locator() throws {
        let text = """
            {"nodes": {"a.b": {"needs": ["x",
                                         "y"]},
                       "plain": {}}}
            """
        let locator = JSONPositionLocator(text: text)
        #expect(locator.position(of: #"nodes["a.b"].needs[1]"#)! == (2, 30))
        #expect(locator.position(of: "nodes.plain.opts.priority")! == (3, 12))
        #expect(locator.position(of: "")! == (1, 1))
        #expect(JSONPositionLocator.components(of: #"children[2].opts["x]y"]"#) == [.key("children"), .index(2), .key("opts"), .key("x]y")])
    }
}
