import Foundation
import Testing
@testable import Tributary

/// The Lua scripts: each Swift wrapper's key order matches its script's header, and assembly works.
@Suite("Queue scripts")
struct QueueScriptTests {
    static let luaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Tributary/Scripts/lua")

    /// The names under `KEYS:` in a script header, in order, checking that they are numbered 1, 2, 3…
    static func headerKeys(_ source: String) -> [String]? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "KEYS:" }) else { return nil }
        var names: [String] = []
        for line in lines[(start + 1)...] {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let number = Int(parts[0]), number == names.count + 1 else { break }
            names.append(String(parts[1]))
        }
        return names
    }

    @Test("every script's Swift key order matches the KEYS section of its header", arguments: QueueScripts.all.map(\.name))
    func keyOrder(name: String) throws {
        let script = try #require(QueueScripts.all.first { $0.name == name })
        #expect(Self.headerKeys(script.rawSource) == script.keys.map(\.rawValue))
        // The ARGV and Returns sections are part of the contract too.
        #expect(script.rawSource.contains("ARGV:") && script.rawSource.contains("Returns:") && script.rawSource.contains("Events:"))
    }

    @Test("every Lua file is registered: scripts in QueueScripts.all, includes in ScriptIncludes.all")
    func everyFileRegistered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.luaDirectory.path)
            .filter { $0.hasSuffix(".lua") }.map { String($0.dropLast(4)) }
        #expect(Set(files) == Set(QueueScripts.all.map(\.name)))
        let includes = try FileManager.default.contentsOfDirectory(atPath: Self.luaDirectory.appendingPathComponent("includes").path)
            .filter { $0.hasSuffix(".lua") }.map { String($0.dropLast(4)) }
        #expect(Set(includes) == Set(ScriptIncludes.all.keys))
    }

    @Test("includes are inlined once, dependencies first; cycles and unknown names are errors")
    func assembly() throws {
        let includes: [String: [UInt8]] = [
            "a": Array("--- @include \"b\"\nlocal function a() end".utf8),
            "b": Array("local function b() end".utf8),
            "loop1": Array("--- @include \"loop2\"".utf8),
            "loop2": Array("--- @include \"loop1\"".utf8),
        ]
        let assembled = try ScriptAssembler.assemble("--- @include \"a\"\n--- @include \"b\"\nreturn 1", includes: includes)
        #expect(assembled == "local function b() end\nlocal function a() end\nreturn 1")
        #expect(throws: ScriptAssembler.AssemblyError.self) { try ScriptAssembler.assemble("--- @include \"loop1\"", includes: includes) }
        #expect(throws: ScriptAssembler.AssemblyError.self) { try ScriptAssembler.assemble("--- @include \"nope\"", includes: includes) }
    }

    @Test("every assembled script compiles on a real server")
    func scriptsLoad() async throws {
        try await withRedisServer { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            for script in QueueScripts.all {
                let sha = try await client.send(script.script.loadCommand).string
                #expect(sha == script.script.sha1, "\(script.name)")
            }
            await client.close()
        }
    }
}
