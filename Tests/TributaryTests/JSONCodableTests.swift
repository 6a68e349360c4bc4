import Foundation
import Testing
import Tributary

private struct Address: Codable, Equatable {
    var street: String
    var zip: String?
}

private enum Priority: String, Codable {
    case low, high
}

private enum Level: Int, Codable {
    case one = 1, two = 2
}

private enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case square(side: Int)
}

private struct JobRecord: Codable, Equatable {
    var name: String
    var attempts: Int
    var delay: Double
    var tags: [String]
    var address: Address
    var nickname: String?
    var note: String?
    var priority: Priority
    var level: Level
    var counts: [String: Int]
    var payload: JSONValue
    var ratio: Float
    var matrix: [[Int8]]
    var shapes: [Shape]
    var big: UInt64
}

private struct Item: Codable, Equatable {
    var id: Int
}

private struct ItemList: Codable, Equatable {
    var items: [Item]
}

/// Uses nested keyed and unkeyed containers explicitly.
private struct Point: Codable, Equatable {
    var x: Int
    var y: Int
    var labels: [String]

    enum CodingKeys: String, CodingKey { case position, labels }
    enum PositionKeys: String, CodingKey { case x, y }

    init(x: Int, y: Int, labels: [String]) {
        self.x = x
        self.y = y
        self.labels = labels
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let position = try container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        x = try position.decode(Int.self, forKey: .x)
        y = try position.decode(Int.self, forKey: .y)
        var list = try container.nestedUnkeyedContainer(forKey: .labels)
        labels = []
        while !list.isAtEnd {
            labels.append(try list.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var position = container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        try position.encode(x, forKey: .x)
        try position.encode(y, forKey: .y)
        var list = container.nestedUnkeyedContainer(forKey: .labels)
        for label in labels {
            try list.encode(label)
        }
    }
}

/// Encodes its superclass part through `superEncoder()`.
private class BaseRecord: Codable {
    var id: Int
    init(id: Int) { self.id = id }
}

private final class DerivedRecord: BaseRecord {
    var extra: String
    enum CodingKeys: String, CodingKey { case extra }

    init(id: Int, extra: String) {
        self.extra = extra
        super.init(id: id)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        extra = try container.decode(String.self, forKey: .extra)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: container.superEncoder())
    }
}

/// Runs `body`, expecting a `DecodingError`, and returns it.
private func decodingError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DecodingError? {
    do {
        try body()
        Issue.record("expected a DecodingError", sourceLocation: sourceLocation)
    } catch let error as DecodingError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The context of a `DecodingError`, whatever its case.
private func decodingContext(of error: DecodingError?) -> DecodingError.Context? {
    switch error {
    case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .keyNotFound(_, let context)?,
        .dataCorrupted(let context)?:
        return context
    default:
        return nil
    }
}

@Suite("JSON Codable bridge")
struct JSONCodableTests {
    private let record = JobRecord(
        name: "resize",
        attempts: 3,
        delay: 1.5,
        tags: ["img", "fast"],
        address: Address(street: "Main", zip: nil),
        nickname: "r",
        note: nil,
        priority: .high,
        level: .two,
        counts: ["a": 1, "b": 2],
        payload: ["z": 1, "a": [true, nil]],
        ratio: 0.1,
        matrix: [[1, 2], [], [-128]],
        shapes: [.circle(radius: 2.5), .square(side: 4)],
        big: UInt64(Int64.max)
    )

    @Test func structRoundTripsThroughJSONValueAndText() throws {
        let encoded = try JSONValue(encoding: record)
        let keys = encoded.objectValue.map { Array($0.keys) }
        #expect(keys == ["name", "attempts", "delay", "tags", "address", "nickname", "priority", "level", "counts",
                         "payload", "ratio", "matrix", "shapes", "big"])
        #expect(encoded["note"] == nil)
        #expect(encoded["address"] == ["street": "Main"])
        #expect(encoded["priority"] == "high")
        #expect(encoded["level"] == 2)
        #expect(encoded["ratio"] == .double(0.1))
        #expect(encoded["payload"]?.objectValue.map { Array($0.keys) } == ["z", "a"])
        #expect(encoded["shapes"] == [["circle": ["radius": 2.5]], ["square": ["side": 4]]])

        #expect(try encoded.decode(as: JobRecord.self) == record)
        let reparsed = try JSONValue.parse(encoded.serialized())
        #expect(try JSONValueDecoder().decode(JobRecord.self, from: reparsed) == record)
    }

    @Test func optionalsDecodeFromMissingAndNull() throws {
        let missing: JSONValue = ["street": "x"]
        let null: JSONValue = ["street": "x", "zip": nil]
        let present: JSONValue = ["street": "x", "zip": "123"]
        #expect(try missing.decode(as: Address.self) == Address(street: "x", zip: nil))
        #expect(try null.decode(as: Address.self) == Address(street: "x", zip: nil))
        #expect(try present.decode(as: Address.self) == Address(street: "x", zip: "123"))
        #expect(try JSONValue.null.decode(as: Int?.self) == nil)
        #expect(try JSONValue.null.decode(as: JSONValue?.self) == nil)
        #expect(try JSONValue.null.decode(as: JSONValue.self) == .null)
    }

    @Test func topLevelValuesOfEveryShape() throws {
        let encoder = JSONValueEncoder()
        #expect(try encoder.encode(5) == .int(5))
        #expect(try encoder.encode("x") == .string("x"))
        #expect(try encoder.encode([1, 2]) == [1, 2])
        #expect(try encoder.encode(Int?.none) == .null)
        #expect(try encoder.encode(Float(0.1)) == .double(0.1))
        #expect(try encoder.encode(JSONValue.string("as is")) == "as is")
        #expect(try encoder.encode(["k": ["v": 1.5]]) == ["k": ["v": 1.5]])
    }

    @Test func nestedAndSuperContainers() throws {
        let point = Point(x: 1, y: -2, labels: ["a", "b"])
        let encoded = try JSONValue(encoding: point)
        #expect(encoded == ["position": ["x": 1, "y": -2], "labels": ["a", "b"]])
        #expect(try encoded.decode(as: Point.self) == point)

        let derived = DerivedRecord(id: 7, extra: "more")
        let encodedDerived = try JSONValue(encoding: derived)
        #expect(encodedDerived == ["extra": "more", "super": ["id": 7]])
        let decoded = try encodedDerived.decode(as: DerivedRecord.self)
        #expect(decoded.id == 7 && decoded.extra == "more")
    }

    @Test func numberConversions() throws {
        #expect(try JSONValue.double(3.0).decode(as: Int.self) == 3)
        #expect(try JSONValue.double(-4.0).decode(as: Int8.self) == -4)
        #expect(try JSONValue.int(5).decode(as: Double.self) == 5.0)
        #expect(try JSONValue.int(5).decode(as: Float.self) == 5.0)
        #expect(try JSONValue.int(.max).decode(as: UInt64.self) == UInt64(Int64.max))
        #expect(try JSONValue.int(255).decode(as: UInt8.self) == 255)

        let tooBig = decodingError { _ = try (["n": 300] as JSONValue).decode(as: [String: UInt8].self) }
        guard case .dataCorrupted(let context)? = tooBig else {
            Issue.record("expected dataCorrupted, got \(String(describing: tooBig))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["n"])
        #expect(context.debugDescription == "Number 300 at 'n' does not fit in UInt8.")

        let fraction = decodingError { _ = try JSONValue.double(2.5).decode(as: Int.self) }
        #expect(decodingContext(of: fraction)?.debugDescription
            == "Expected to decode Int at the top level but found non-integral number 2.5.")
        #expect(decodingError { _ = try JSONValue.double(1e19).decode(as: Int64.self) } != nil)
        #expect(decodingError { _ = try JSONValue.int(-1).decode(as: UInt.self) } != nil)
        #expect(decodingError { _ = try JSONValue.double(1e300).decode(as: Float.self) } != nil)
        #expect(decodingError { _ = try JSONValue.string("1").decode(as: Int.self) } != nil)
        #expect(decodingError { _ = try JSONValue.int(1).decode(as: Bool.self) } != nil)
    }

    @Test func typeMismatchNamesThePath() {
        let value: JSONValue = ["items": [["id": 1], ["id": "two"]]]
        let error = decodingError { _ = try value.decode(as: ItemList.self) }
        guard case .typeMismatch(let type, let context)? = error else {
            Issue.record("expected typeMismatch, got \(String(describing: error))")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
        #expect(context.codingPath.map(\.stringValue) == ["items", "Index 1", "id"])
        #expect(context.codingPath.map(\.intValue) == [nil, 1, nil])
        #expect(context.debugDescription == #"Expected to decode Int at 'items[1].id' but found string "two"."#)
    }

    @Test func missingKeyNullAndShortArrayErrors() {
        let missing = decodingError { _ = try (["items": [["no": 1]]] as JSONValue).decode(as: ItemList.self) }
        guard case .keyNotFound(let key, let context)? = missing else {
            Issue.record("expected keyNotFound, got \(String(describing: missing))")
            return
        }
        #expect(key.stringValue == "id")
        #expect(context.codingPath.map(\.stringValue) == ["items", "Index 0"])
        #expect(context.debugDescription.contains("'items[0].id'"))

        let null = decodingError { _ = try (["id": nil] as JSONValue).decode(as: Item.self) }
        guard case .valueNotFound(_, let nullContext)? = null else {
            Issue.record("expected valueNotFound, got \(String(describing: null))")
            return
        }
        #expect(nullContext.debugDescription == "Expected to decode Int at 'id' but found null.")

        let wrongContainer = decodingError { _ = try (["items": ["id": 1]] as JSONValue).decode(as: ItemList.self) }
        #expect(decodingContext(of: wrongContainer)?.debugDescription
            == #"Expected to decode an array at 'items' but found object {"id":1}."#)

        let short = decodingError { _ = try JSONValue.array([1]).decode(as: PairOfInts.self) }
        guard case .valueNotFound(_, let shortContext)? = short else {
            Issue.record("expected valueNotFound, got \(String(describing: short))")
            return
        }
        #expect(shortContext.codingPath.map(\.intValue) == [1])
        #expect(shortContext.debugDescription.contains("'[1]'"))
    }

    @Test func unrepresentableIntegerFailsToEncode() throws {
        #expect(throws: EncodingError.self) {
            _ = try JSONValue(encoding: ["big": UInt64.max])
        }
        #expect(throws: EncodingError.self) {
            _ = try JSONValue(encoding: NothingEncoded())
        }
        #expect(try JSONValue(encoding: [NothingEncoded()]) == [[:]])
    }

    @Test func jsonValueWorksWithOtherCoders() throws {
        let value: JSONValue = ["list": [1, 2.5, "x", true, nil, ["k": -3]]]
        let text = try JSONEncoder().encode(value)
        #expect(try JSONValue.parse(bytes: text) == value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized().utf8))
        #expect(decoded == value)
    }
}

/// Decodes exactly two integers from an unkeyed container.
private struct PairOfInts: Decodable {
    var first: Int
    var second: Int

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        first = try container.decode(Int.self)
        second = try container.decode(Int.self)
    }
}

/// Requests no container at all.
private struct NothingEncoded: Encodable {
    func encode(to encoder: any Encoder) throws {}
}
