import Testing
import Tributary

@Suite("JSONValue model")
struct JSONValueTests {
    @Test func literalsBuildTheMatchingCases() {
        let null: JSONValue = nil
        let flag: JSONValue = true
        let int: JSONValue = 42
        let double: JSONValue = 2.5
        let string: JSONValue = "hi"
        let array: JSONValue = [1, "two", nil]
        let object: JSONValue = ["b": 1, "a": [true]]

        #expect(null == .null)
        #expect(flag == .bool(true))
        #expect(int == .int(42))
        #expect(double == .double(2.5))
        #expect(string == .string("hi"))
        #expect(array == .array([.int(1), .string("two"), .null]))
        #expect(object.objectValue.map { Array($0.keys) } == ["b", "a"])
        #expect(object["a"] == .array([.bool(true)]))
    }

    @Test func accessorsReturnPayloadsOnlyForTheirCase() {
        let value: JSONValue = ["s": "text", "i": 7, "d": 1.5, "whole": 3.0, "b": false, "n": nil, "a": [1], "o": ["k": 1]]

        #expect(value["s"]?.stringValue == "text")
        #expect(value["i"]?.stringValue == nil)
        #expect(value["i"]?.intValue == 7)
        #expect(value["d"]?.intValue == nil)
        #expect(value["whole"]?.intValue == 3)
        #expect(value["i"]?.doubleValue == 7.0)
        #expect(value["d"]?.doubleValue == 1.5)
        #expect(value["s"]?.doubleValue == nil)
        #expect(value["b"]?.boolValue == false)
        #expect(value["i"]?.boolValue == nil)
        #expect(value["n"]?.isNull == true)
        #expect(value["b"]?.isNull == false)
        #expect(value["a"]?.arrayValue == [.int(1)])
        #expect(value["o"]?.arrayValue == nil)
        #expect(value["o"]?.objectValue?["k"] == .int(1))
        #expect(value["a"]?.objectValue == nil)
        #expect(JSONValue.double(1e30).intValue == nil)
        #expect(JSONValue.int(.max).doubleValue == 9.223372036854775807e18)
    }

    @Test func subscriptsDistinguishAbsentFromNull() {
        let value: JSONValue = ["present": nil, "list": [10, 20]]

        #expect(value["present"] == .null)
        #expect(value["absent"] == nil)
        #expect(value["list"]?[0] == .int(10))
        #expect(value["list"]?[1] == .int(20))
        #expect(value["list"]?[2] == nil)
        #expect(value["list"]?[-1] == nil)
        #expect(value[0] == nil)
        #expect(JSONValue.string("x")["key"] == nil)
    }

    @Test func equalityIsByCaseAndKeyOrder() {
        #expect(JSONValue.int(1) != JSONValue.double(1))
        #expect(JSONValue.double(0) == JSONValue.double(-0.0))
        let ab: JSONValue = ["a": 1, "b": 2]
        let ba: JSONValue = ["b": 2, "a": 1]
        #expect(ab != ba)
        #expect(ab == ["a": 1, "b": 2])

        let set: Set<JSONValue> = [ab, ba, ["a": 1, "b": 2], .int(1), .double(1)]
        #expect(set.count == 4)
    }

    @Test func descriptionIsCompactSerialization() {
        let value: JSONValue = ["a": 1, "b": [true, nil], "c": "x\ny"]
        #expect(value.description == #"{"a":1,"b":[true,null],"c":"x\ny"}"#)
        #expect("\(value)" == value.serialized())
        #expect(JSONValue.null.description == "null")
    }
}
