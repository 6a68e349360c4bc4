import Testing
@testable import Tributary

/// JSON object keys are sequences of Unicode scalars: keys that differ only in normalisation are different keys.
@Suite("JSON keys compare by Unicode scalars")
struct JSONKeyTests {
    static let nfc = "caf\u{E9}"
    static let nfd = "cafe\u{301}"

    @Test("an object with the same key in NFC and in NFD keeps both members, in order")
    func normalisationVariantsStayApart() throws {
        #expect(Self.nfc == Self.nfd)  // Swift's String equality: canonical equivalence
        let text = #"{"\#(Self.nfc)":1,"\#(Self.nfd)":2}"#
        let value = try JSONValue.parse(text)
        let object = try #require(value.objectValue)
        #expect(object.count == 2)
        #expect(object.keys.map { Array($0.unicodeScalars) } == [Array(Self.nfc.unicodeScalars), Array(Self.nfd.unicodeScalars)])
        #expect(value[Self.nfc] == 1)
        #expect(value[Self.nfd] == 2)
        #expect(Array(value.serialized().utf8) == Array(text.utf8))
        #expect(JSONValue.object([Self.nfc: 1]) != JSONValue.object([Self.nfd: 1]))
        #expect(Set([JSONKey(Self.nfc), JSONKey(Self.nfd), JSONKey(Self.nfc)]).count == 2)
    }

    @Test("two node ids that differ only in normalisation are refused, naming both; a need compares by scalars")
    func lookalikeNodeIds() throws {
        let error = try #require(flowError(flowWithNodes(#""\#(Self.nfc)": {}, "\#(Self.nfd)": {}"#)))
        #expect(error.problems.map(\.code) == [.duplicateKey])
        #expect(error.problems.first?.description
            == #"flow.json: nodes["\#(Self.nfd)"]: node id '\#(Self.nfd)' (U+63 U+61 U+66 U+65 U+301) differs from node id '\#(Self.nfc)' at nodes["\#(Self.nfc)"] (U+63 U+61 U+66 U+E9) only in Unicode normalisation; rename one of them"#)
        let unknown = try #require(flowError(flowWithNodes(#""\#(Self.nfc)": {}, "b": {"needs": "\#(Self.nfd)"}"#)))
        #expect(unknown.problems.map(\.code) == [.unknownDependency])
        let plan = try FlowCompiler.compile(flowWithNodes(#""\#(Self.nfc)": {}, "b": {"needs": "\#(Self.nfc)"}"#), source: "flow.json")
        #expect(plan.node(Self.nfc)?.dependents == ["b"])
        #expect(plan.node(Self.nfd) == nil)
    }
}
