import Testing
@testable import Tributary

/// The problems of a flow file that must not compile, one description line each (empty, with a recorded issue,
/// when it compiles).
func flowProblems(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    flowError(text, sourceLocation: sourceLocation)?.problems.map(\.description) ?? []
}

/// The error of a flow file that must not compile.
func flowError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> FlowFileError? {
    do {
        let plan = try FlowCompiler.compile(text, source: "flow.json")
        Issue.record("expected problems, but the flow compiled to \(plan.nodes.map(\.id))", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// A native flow with queue "q" around the given `nodes` members.
func flowWithNodes(_ nodes: String) -> String {
    #"{"flow": "f", "queue": "q", "nodes": {\#(nodes)}}"#
}

@Suite("Flow files: syntax problems")
struct FlowFileSyntaxTests {
    @Test("a syntax error gives file:line:column and jansson's explanation")
    func syntaxError() throws {
        let error = try #require(flowError("{\"flow\": \"f\",\n \"nodes\": {\"a\": {\"needs\": [\"b\",, \"c\"]}}}"))
        #expect(error.description == "flow.json:2:32: unexpected token near ','")
        let problem = try #require(error.problems.first)
        #expect(problem.code == .syntax)
        #expect(problem.line == 2 && problem.column == 32 && problem.path == nil)
    }

    @Test("a truncated file says so")
    func truncated() {
        #expect(flowProblems("{\"flow\": \"f\", \"nodes\": {") == ["flow.json:1:24: string or '}' expected near end of file"])
    }

    @Test("a repeated node id is a duplicate node id, with its line and column")
    func duplicateNodeId() throws {
        let text = """
            {"flow": "f", "queue": "q",
             "nodes": {
               "merge": {},
               "merge": {"needs": "x"}}}
            """
        let error = try #require(flowError(text))
        #expect(error.description == "flow.json:4:10: duplicate node id 'merge': each node id may appear only once in \"nodes\"")
        #expect(error.problems.first?.code == .duplicateKey)
    }

    @Test("other repeated keys name the object they are in")
    func duplicateKeys() {
        #expect(flowProblems(#"{"flow": "f", "flow": "g"}"#) == ["flow.json:1:20: duplicate top-level key 'flow'"])
        #expect(flowProblems(flowWithNodes(#""a.b": {"opts": {"delay": 1, "delay": 2}}"#))
            == [#"flow.json:1:74: duplicate key 'delay' in nodes["a.b"].opts"#])
        #expect(flowProblems(#"{"name": "r", "queueName": "q", "children": [{}, {"name": "c", "name": "d"}]}"#)
            == ["flow.json:1:69: duplicate key 'name' in children[1]"])
    }

    @Test("the file must hold an object")
    func notAnObject() {
        #expect(flowProblems("[1, 2]") == ["flow.json: a flow file must hold a JSON object (a flow), got an array"])
    }
}

@Suite("Flow files: semantic problems")
struct FlowFileValidationTests {
    @Test("empty flow")
    func emptyFlow() throws {
        let error = try #require(flowError(flowWithNodes("")))
        #expect(error.description == "flow.json: nodes: the flow has no nodes")
        #expect(error.problems.map(\.code) == [.emptyFlow])
        #expect(error.problems.first?.path == "nodes")
    }

    @Test("required keys: flow and nodes")
    func requiredKeys() {
        #expect(flowProblems(#"{"queue": "q"}"#) == [
            "flow.json: missing required key 'flow' (the flow's name)",
            "flow.json: missing required key 'nodes' (an object mapping node ids to nodes)",
        ])
        #expect(flowProblems(#"{"flow": "f", "nodes": [{"name": "a"}]}"#)
            == ["flow.json: nodes: must be an object mapping node ids to nodes, got an array"])
    }

    @Test("names containing ':' or empty: flow, node ids, queues")
    func invalidNames() throws {
        let error = try #require(flowError(#"""
            {"flow": "nightly:report", "queue": "", "nodes": {"a:b": {}, "": {"queue": "io:fast"}, "c": {"queue": 7}}}
            """#))
        #expect(error.problems.map(\.description) == [
            "flow.json: flow: flow name 'nightly:report' must not contain ':'",
            "flow.json: queue: queue name must not be empty",
            #"flow.json: nodes["a:b"]: node id 'a:b' must not contain ':'"#,
            "flow.json: nodes[\"a:b\"]: node 'a:b' has no queue: give it a \"queue\" or set a default \"queue\" at the top level",
            #"flow.json: nodes[""]: node id must not be empty"#,
            #"flow.json: nodes[""].queue: queue name 'io:fast' must not contain ':'"#,
            "flow.json: nodes.c.queue: queue name must be a string, got an integer",
        ])
        #expect(error.problems[2].node == "a:b")
        #expect(error.problems.map(\.code) == [.invalidName, .invalidName, .invalidName, .missingQueue, .invalidName,
                                               .invalidName, .wrongType])
    }

    @Test("a node without queue, in a file without one")
    func missingQueue() {
        #expect(flowProblems(#"{"flow": "f", "nodes": {"a": {"queue": "q"}, "b": {}}}"#)
            == ["flow.json: nodes.b: node 'b' has no queue: give it a \"queue\" or set a default \"queue\" at the top level"])
    }

    @Test("$schema is accepted at the top level of both shapes, only there, and only as a string")
    func schemaReference() throws {
        let native = try FlowCompiler.compile(#"{"$schema": "./schema.json", "flow": "f", "queue": "q", "nodes": {"a": {}}}"#,
                                              source: "flow.json")
        #expect(native.nodes.map(\.id) == ["a"])
        let nested = try FlowCompiler.compile(#"{"$schema": "./schema.json", "name": "top", "queueName": "q", "children": []}"#,
                                              source: "flow.json")
        #expect(nested.nodes.map(\.id) == ["top"])
        #expect(flowProblems(#"{"$schema": 1, "flow": "f", "queue": "q", "nodes": {"a": {}}}"#) == [
            #"flow.json: ["$schema"]: must be a string (the URI or relative path of a JSON Schema, such as "./schema.json"), got an integer"#,
        ])
        #expect(flowProblems(flowWithNodes(#""a": {"$schema": "./schema.json"}"#))
            == ["flow.json: nodes.a: unknown key '$schema' in node 'a'"])
        #expect(flowProblems(#"{"name": "top", "queueName": "q", "children": [{"$schema": "x", "name": "c", "queueName": "q"}]}"#)
            == ["flow.json: children[0]: unknown key '$schema' in node 'c' ('$schema' belongs at the top level only)"])
    }

    @Test("unknown keys name the nearest valid key, or none when nothing is close")
    func unknownKeys() {
        #expect(flowProblems(#"{"flow": "f", "queue": "q", "nodse": {}, "colour": 1, "nodes": {"a": {}}}"#) == [
            "flow.json: unknown top-level key 'nodse'; did you mean 'nodes'?",
            "flow.json: unknown top-level key 'colour'",
        ])
        #expect(flowProblems(flowWithNodes(#""a": {}, "merge": {"neds": "a", "Name": "m", "retries": 3}"#)) == [
            "flow.json: nodes.merge: unknown key 'neds' in node 'merge'; did you mean 'needs'?",
            "flow.json: nodes.merge: unknown key 'Name' in node 'merge'; did you mean 'name'?",
            "flow.json: nodes.merge: unknown key 'retries' in node 'merge'",
        ])
        #expect(flowProblems(flowWithNodes(#""a": {"opts": {"prioirty": 1, "backoff": {"type": "fixed", "dealy": 5}}}"#)) == [
            "flow.json: nodes.a.opts: unknown option 'prioirty'; did you mean 'priority'?",
            "flow.json: nodes.a.opts.backoff: unknown key 'dealy' in backoff; did you mean 'delay'?",
        ])
        #expect(flowProblems(#"{"flow": "f", "queue": "q", "defaults": {"atempts": 2}, "nodes": {"a": {}}}"#)
            == ["flow.json: defaults: unknown option 'atempts'; did you mean 'attempts'?"])
        #expect(flowProblems(flowWithNodes(#""a": {"opts": {"removeOnFail": {"age": 1, "cuont": 2}}}"#))
            == ["flow.json: nodes.a.opts.removeOnFail: unknown key 'cuont' in removeOnFail; did you mean 'count'?"])
    }

    @Test("needs: wrong types")
    func needsTypes() {
        #expect(flowProblems(flowWithNodes(#""a": {"needs": {"b": true}}, "b": {"needs": ["a", 3]}"#)) == [
            "flow.json: nodes.a.needs: must be a node id or an array of node ids, got an object",
            "flow.json: nodes.b.needs[1]: must be a node id (a string), got an integer",
        ])
    }

    @Test("unknown needs suggest the nearest id")
    func unknownNeeds() throws {
        let error = try #require(flowError(flowWithNodes(
            #""extract-us": {}, "extract-eu": {}, "merge": {"needs": ["extract-us", "extract-uk", "transform"]}"#)))
        #expect(error.problems.map(\.description) == [
            "flow.json: nodes.merge.needs[1]: unknown node 'extract-uk'; did you mean 'extract-us'?",
            "flow.json: nodes.merge.needs[2]: unknown node 'transform'",
        ])
        #expect(error.problems.map(\.code) == [.unknownDependency, .unknownDependency])
        #expect(error.problems.map(\.node) == ["merge", "merge"])
    }

    @Test("self-dependency and a need listed twice")
    func selfAndRepeatedNeeds() {
        #expect(flowProblems(flowWithNodes(#""a": {}, "b": {"needs": "b"}, "c": {"needs": ["a", "a"]}"#)) == [
            "flow.json: nodes.b.needs: node 'b' needs itself",
            "flow.json: nodes.c.needs[1]: 'a' is already needed by this node",
        ])
    }

    @Test("cycles are printed, one per group of nodes needing each other")
    func cycles() throws {
        let error = try #require(flowError(flowWithNodes(#"""
            "a": {"needs": "c"}, "b": {"needs": "a"}, "c": {"needs": "b"},
            "x": {"needs": ["y", "ok"]}, "y": {"needs": "x"}, "ok": {}, "after": {"needs": "a"}
            """#)))
        #expect(error.problems.map(\.description) == [
            "flow.json: nodes.a: cycle: a -> c -> b -> a",
            "flow.json: nodes.x: cycle: x -> y -> x",
        ])
        #expect(error.problems.map(\.code) == [.cycle, .cycle])
    }

    @Test("option types and ranges name the JSON path")
    func optionRanges() {
        #expect(flowProblems(flowWithNodes(#"""
            "publish": {"opts": {"priority": -1, "delay": "soon", "lifo": "yes", "attempts": 1.5, "timeout": 0,
              "timestamp": -3, "backoff": {"type": "exponential", "jitter": 2}, "removeOnComplete": {},
              "removeOnFail": "never"}},
            "b": {"opts": {"priority": 2097152, "backoff": {"delay": 10}}},
            "c": {"opts": {"backoff": "slow"}},
            "d": {"opts": 5}
            """#)) == [
            "flow.json: nodes.publish.opts.priority: must be an integer 0...2097151, got -1",
            "flow.json: nodes.publish.opts.delay: must be an integer number of milliseconds 0...315360000000 (ten years), got 'soon'",
            "flow.json: nodes.publish.opts.lifo: must be true or false, got 'yes'",
            "flow.json: nodes.publish.opts.attempts: must be an integer >= 0 (0 and 1 both mean one attempt), got 1.5",
            "flow.json: nodes.publish.opts.timeout: must be an integer number of milliseconds > 0, got 0",
            "flow.json: nodes.publish.opts.timestamp: must be an integer number of milliseconds since 1970 >= 0, got -3",
            "flow.json: nodes.publish.opts.backoff.jitter: must be a number 0...1, got 2",
            "flow.json: nodes.publish.opts.removeOnComplete: needs 'age' (seconds), 'count', or both",
            "flow.json: nodes.publish.opts.removeOnFail: must be true, false, a number of jobs to keep or an object {age, count}, got a string",
            "flow.json: nodes.b.opts.priority: must be an integer 0...2097151, got 2097152",
            "flow.json: nodes.b.opts.backoff: missing 'type': 'fixed', 'exponential' or the name of a custom strategy",
            "flow.json: nodes.c.opts.backoff: must be a delay in milliseconds or an object {type, delay, jitter}, got a string",
            "flow.json: nodes.d.opts: must be an object of job options, got an integer",
        ])
    }

    @Test("custom jobIds: non-empty, no ':', not an integer, not a default")
    func jobIds() {
        #expect(flowProblems(#"""
            {"flow": "f", "queue": "q", "defaults": {"jobId": "x"}, "nodes": {
              "a": {"opts": {"jobId": "42"}}, "b": {"opts": {"jobId": "a:b"}}, "c": {"opts": {"jobId": ""}},
              "d": {"opts": {"jobId": 7}}}}
            """#) == [
            "flow.json: defaults.jobId: jobId cannot be a default: every node needs its own; set it in the node's opts",
            "flow.json: nodes.a.opts.jobId: must not be an integer, got '42': integer ids belong to the queue's counter",
            "flow.json: nodes.b.opts.jobId: must not contain ':', got 'a:b'",
            "flow.json: nodes.c.opts.jobId: must not be empty",
            "flow.json: nodes.d.opts.jobId: must be a string, got an integer",
        ])
    }

    @Test("two nodes of one queue with the same custom jobId")
    func duplicateJobIds() throws {
        let error = try #require(flowError(flowWithNodes(#"""
            "a": {"opts": {"jobId": "daily"}}, "b": {"opts": {"jobId": "daily"}},
            "c": {"queue": "other", "opts": {"jobId": "daily"}}
            """#)))
        #expect(error.problems.map(\.description)
            == ["flow.json: nodes.b.opts.jobId: jobId 'daily' is also used by node 'a' in queue 'q'"])
        #expect(error.problems.first?.code == .duplicateJobId)
    }

    @Test("BullMQ's failure options are not taken in native opts: onFailure says the same")
    func failureOptionsInNativeFormat() throws {
        let error = try #require(flowError(#"""
            {"flow": "f", "queue": "q", "defaults": {"continueParentOnFailure": true},
             "nodes": {"a": {"opts": {"failParentOnFailure": true, "ignoreDependencyOnFailure": false}}}}
            """#))
        #expect(error.problems.map(\.description) == [
            #"flow.json: defaults.continueParentOnFailure: BullMQ's 'continueParentOnFailure' is not allowed in the opts of a flow file; use each node's "onFailure": "continue" instead"#,
            #"flow.json: nodes.a.opts.failParentOnFailure: BullMQ's 'failParentOnFailure' is not allowed in the opts of a flow file; use the node's "onFailure": "fail" instead"#,
            #"flow.json: nodes.a.opts.ignoreDependencyOnFailure: BullMQ's 'ignoreDependencyOnFailure' is not allowed in the opts of a flow file; use the node's "onFailure": "ignore" instead"#,
        ])
        #expect(error.problems.allSatisfy { $0.code == .unsupportedOption })
    }

    @Test("BullMQ's short failure flags (fpof, idof, rdof, cpof) are synonyms of onFailure; a disagreement is a problem")
    func shortFailureFlags() throws {
        let plan = try FlowCompiler.compile(flowWithNodes(#"""
            "a": {"opts": {"fpof": true}}, "b": {"opts": {"idof": true}}, "c": {"opts": {"rdof": true}},
            "d": {"opts": {"cpof": true}}, "e": {"opts": {"idof": true}, "onFailure": "ignore"}, "f": {"opts": {"cpof": false}},
            "g": {"needs": ["a", "b", "c", "d", "e", "f"]}
            """#), source: "flow.json")
        #expect(["a", "b", "c", "d", "e", "f"].map { plan.node($0)?.onFailure }
            == [.fail, .ignore, .remove, .continue, .ignore, .fail])
        #expect(plan.node("c")?.options.onFailure == .remove)
        #expect(flowProblems(flowWithNodes(#""a": {"opts": {"idof": true}, "onFailure": "remove"}"#)) == [
            #"flow.json: nodes.a.opts.idof: 'idof' means "onFailure": "ignore", but the node's "onFailure" is "remove"; keep only "onFailure""#,
        ])
        #expect(flowProblems(flowWithNodes(#""a": {"opts": {"fpof": true, "rdof": true}}, "b": {"opts": {"cpof": "yes"}}"#)) == [
            "flow.json: nodes.a.opts: 'fpof' and 'rdof' exclude each other; set only one",
            "flow.json: nodes.b.opts.cpof: must be true or false, got 'yes'",
        ])
        #expect(flowProblems(#"{"flow": "f", "queue": "q", "defaults": {"rdof": true}, "nodes": {"a": {}}}"#) == [
            #"flow.json: defaults.rdof: BullMQ's 'rdof' is not allowed in the opts of a flow file; use each node's "onFailure": "remove" instead"#,
        ])
        let nested = try FlowCompiler.compile(#"""
            {"name": "top", "queueName": "q", "children": [
              {"name": "x", "queueName": "q", "opts": {"cpof": true}},
              {"name": "y", "queueName": "q", "opts": {"rdof": true, "removeDependencyOnFailure": true}}]}
            """#, source: "flow.json")
        #expect(nested.node("x")?.onFailure == .continue)
        #expect(nested.node("y")?.onFailure == .remove)
        #expect(flowProblems(#"""
            {"name": "top", "queueName": "q", "children": [{"name": "x", "queueName": "q", "opts": {"fpof": true, "ignoreDependencyOnFailure": true}}]}
            """#) == ["flow.json: children[0].opts: 'fpof' and 'ignoreDependencyOnFailure' exclude each other; set only one"])
    }

    @Test("BullMQ options Tributary does not support are named as such")
    func unsupportedOptions() {
        #expect(flowProblems(flowWithNodes(#""a": {"opts": {"repeat": {"every": 1000}}}"#))
            == ["flow.json: nodes.a.opts.repeat: 'repeat' is a BullMQ job option that Tributary flow files do not support"])
    }

    @Test("onFailure must be one of the four policies")
    func onFailureValues() {
        #expect(flowProblems(flowWithNodes(#""a": {"onFailure": "ignroe"}, "b": {"onFailure": "keepWaiting"}, "c": {"onFailure": true}"#)) == [
            "flow.json: nodes.a.onFailure: must be one of 'fail', 'ignore', 'remove', 'continue', got 'ignroe'; did you mean 'ignore'?",
            "flow.json: nodes.b.onFailure: must be one of 'fail', 'ignore', 'remove', 'continue', got 'keepWaiting'",
            "flow.json: nodes.c.onFailure: must be one of 'fail', 'ignore', 'remove', 'continue', got true",
        ])
    }

    @Test("run must be a non-empty array of non-empty strings")
    func runShape() {
        #expect(flowProblems(flowWithNodes(#""a": {"run": "echo hi"}, "b": {"run": []}, "c": {"run": ["sh", 1, ""]}"#)) == [
            #"flow.json: nodes.a.run: must be an array of strings (the program and its arguments), got a string; for a shell command line write ["sh", "-c", "..."]"#,
            "flow.json: nodes.b.run: must not be empty: the first element is the program to run",
            "flow.json: nodes.c.run[1]: must be a non-empty string, got 1",
            "flow.json: nodes.c.run[2]: must be a non-empty string, got ''",
        ])
    }

    @Test("other wrong types: a node, a name, a prefix, the flow name")
    func wrongTypes() {
        #expect(flowProblems(#"{"flow": 3, "queue": "q", "prefix": "", "nodes": {"a": [], "b": {"name": ""}}}"#) == [
            "flow.json: flow: flow name must be a string, got an integer",
            "flow.json: prefix: must be a non-empty string (a key prefix such as 'bull' or '{tributary}'), got ''",
            "flow.json: nodes.a: a node must be an object, got an array",
            "flow.json: nodes.b.name: must be a non-empty string (the job name), got ''",
        ])
    }

    @Test("several problems are reported together, each with its code, path and node")
    func severalProblems() throws {
        let error = try #require(flowError(#"""
            {"flow": "f", "queue": "q", "defaults": {"attempts": -1},
             "nodes": {
               "extract": {"opts": {"priority": -1}},
               "merge": {"neds": "extract", "needs": ["extract", "transfrom"]},
               "publish": {"needs": "publish", "onFailure": "explode"}}}
            """#))
        #expect(error.description == """
            flow.json: defaults.attempts: must be an integer >= 0 (0 and 1 both mean one attempt), got -1
            flow.json: nodes.extract.opts.priority: must be an integer 0...2097151, got -1
            flow.json: nodes.merge: unknown key 'neds' in node 'merge'; did you mean 'needs'?
            flow.json: nodes.publish.onFailure: must be one of 'fail', 'ignore', 'remove', 'continue', got 'explode'
            flow.json: nodes.merge.needs[1]: unknown node 'transfrom'
            flow.json: nodes.publish.needs: node 'publish' needs itself
            """)
        #expect(error.problems.map(\.code) == [.invalidOption, .invalidOption, .unknownKey, .invalidValue,
                                               .unknownDependency, .selfDependency])
        #expect(error.problems.map(\.path) == ["defaults.attempts", "nodes.extract.opts.priority", "nodes.merge",
                                               "nodes.publish.onFailure", "nodes.merge.needs[1]", "nodes.publish.needs"])
        #expect(error.problems.map(\.node) == [nil, "extract", "merge", "publish", "merge", "publish"])
        #expect(error.problems.allSatisfy { $0.source == "flow.json" && $0.line == nil })
    }
}

@Suite("Flow files: BullMQ shape problems")
struct FlowFileBullMQValidationTests {
    @Test("failure options exclude each other; they must be booleans")
    func conflictingFailureOptions() {
        #expect(flowProblems(#"""
            {"name": "r", "queueName": "q", "children": [
              {"name": "c", "queueName": "q", "opts": {"failParentOnFailure": true, "removeDependencyOnFailure": true}},
              {"name": "d", "queueName": "q", "opts": {"ignoreDependencyOnFailure": "yes"}}]}
            """#) == [
            "flow.json: children[0].opts: 'failParentOnFailure' and 'removeDependencyOnFailure' exclude each other; set only one",
            "flow.json: children[1].opts.ignoreDependencyOnFailure: must be true or false, got 'yes'",
        ])
    }

    @Test("name and queueName are required; children must be an array of objects; one prefix")
    func structure() {
        #expect(flowProblems(#"""
            {"name": "r:1", "queueName": "q", "prefix": "bull", "children": [
              {"queueName": "q", "prefix": "other", "children": {}}, 5, {"name": "x", "queueNme": "q"}]}
            """#) == [
            "flow.json: children[0].children: must be an array of nodes, got an object",
            "flow.json: children[1]: a node must be an object, got an integer",
            "flow.json: name: the flow name (the root's name) 'r:1' must not contain ':'",
            "flow.json: children[0]: missing required key 'name' in node 'root/children[0]'",
            "flow.json: children[0].prefix: prefix 'other' differs from the root's: every node of a flow file uses one prefix",
            "flow.json: children[2]: unknown key 'queueNme' in node 'x'; did you mean 'queueName'?",
            "flow.json: children[2]: missing required key 'queueName' in node 'x'",
        ])
    }

    @Test("options of nested nodes are checked like native ones")
    func nestedOptions() {
        #expect(flowProblems(#"{"name": "r", "queueName": "q", "opts": {"priority": "high", "sizeLimit": 5, "lifo": true}}"#) == [
            "flow.json: opts.priority: must be an integer 0...2097151, got 'high'",
            "flow.json: opts.sizeLimit: 'sizeLimit' is a BullMQ job option that Tributary flow files do not support",
        ])
    }
}
