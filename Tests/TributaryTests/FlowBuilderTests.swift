import Testing
@testable import Tributary

@Suite("Flow builder (Swift API)")
struct FlowBuilderTests {
    static func mapReduce() -> FlowBuilder {
        var flow = FlowBuilder("map-reduce", queue: "m", defaults: JobOptions(attempts: 2))
        flow.node("list", data: ["dir": "/in"])
        flow.node("convert", needs: ["list"], command: ["./convert.sh"],
                  map: FlowMap(items: .input(node: "list", path: ["files"]), maxConcurrency: 4, toleratedFailures: .percent(10)))
        flow.node("merge", needs: ["convert"], options: JobOptions(priority: 3), onFailure: .ignore)
        flow.node("publish", needs: ["merge"], when: .input("merge", path: "ok", .equals(true)))
        return flow
    }

    @Test("a built plan equals the plan of the same flow file")
    func sameAsFile() throws {
        let built = try Self.mapReduce().build()
        let file = try compiledFlow("""
            {"flow": "map-reduce", "queue": "m", "defaults": {"attempts": 2}, "nodes": {
              "list": {"data": {"dir": "/in"}},
              "convert": {"needs": ["list"], "run": ["./convert.sh"],
                          "map": {"items": "list.files", "maxConcurrency": 4, "toleratedFailures": "10%"}},
              "merge": {"needs": ["convert"], "opts": {"priority": 3}, "onFailure": "ignore"},
              "publish": {"needs": ["merge"], "when": {"input": "merge", "path": "ok", "equals": true}}}}
            """)
        #expect(built == file)
        #expect(built.node("convert")?.map?.toleratedCount(of: 37) == 3)
        #expect(built.node("publish")?.condition == .test(input: "merge", path: ["ok"], .equals(true)))
    }

    @Test("a builder's mistakes are reported like a file's, with the node's path")
    func problems() {
        var flow = FlowBuilder("bad")
        flow.node("a", needs: ["b"], when: .input("c", .exists(true)))
        do {
            _ = try flow.build()
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.description) == [
                "FlowBuilder(bad): nodes.a: node 'a' has no queue: give it a \"queue\" or set a default \"queue\" at the top level",
                #"FlowBuilder(bad): nodes.a.when.input: condition reads 'c', which node 'a' does not need: add it to "needs"; did you mean 'b'?"#,
                "FlowBuilder(bad): nodes.a.needs[0]: unknown node 'b'",
            ])
        }
    }

    struct Listing: Codable, Equatable { let files: [String] }
    struct Converted: Codable, Equatable { let name: String; let size: Int }

    @Test("job.input(_:as:) and job.mapItem(as:) decode inputs and items into Swift types")
    func typedAccess() async throws {
        try await withQueue("m") { queue, client, _ in
            var flow = FlowBuilder("typed", queue: "m")
            flow.node("list")
            flow.node("convert", needs: ["list"], map: FlowMap(items: .input(node: "list", path: ["files"])))
            flow.node("merge", needs: ["convert"])
            try await FlowProducer(client: client).submit(try flow.build(), runId: "t")
            let worker = try Worker(queue: "m", client: client, options: .init(concurrency: 4)) { job in
                if job.mapIndex != nil {
                    let name = try job.mapItem(as: String.self)
                    return try JSONValueEncoder().encode(Converted(name: name, size: name.count))
                }
                switch job.flowNodeId {
                case "list": return try JSONValueEncoder().encode(Listing(files: ["a.csv", "bb.csv"]))
                default:
                    let converted = try job.input("convert", as: [Converted].self)
                    #expect(throws: QueueError.self) { try job.input("list", as: Listing.self) }   // not needed
                    return .int(Int64(converted.map(\.size).reduce(0, +)))
                }
            }
            try await withWorkers([worker]) { () async throws in
                #expect(try await queue.waitUntilFinished("t.merge") == 11)
            }
        }
    }
}
