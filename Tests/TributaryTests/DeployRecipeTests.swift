import Foundation
import Testing
@testable import Tributary

/// The recipes in deploy/: the systemd unit (checked by `systemd-analyze verify` where it exists), the Kubernetes
/// manifest (parsed as YAML), and the redis.conf fragment (loaded by a real redis-server). Each recipe's worker
/// options are checked against the real `tributary worker --help`, and its stop timeout against its grace period.
@Suite("Deployment recipes")
struct DeployRecipeTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    private static let unitPath = root + "/deploy/systemd/tributary-worker.service"

    /// The `[Service]` (or other section's) settings of a unit file; a key given twice keeps its last value.
    private func unitSettings(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
            } else if let equals = line.firstIndex(of: "=") {
                sections[section, default: [:]][String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
        }
        return sections
    }

    /// Seconds in a duration written as the CLI or systemd take it (`90`, `90s`, `2m`, `1min`).
    private func seconds(_ text: String) -> Int? {
        let digits = text.prefix { $0.isNumber }
        guard let value = Int(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "", "s", "sec": return value
        case "m", "min": return value * 60
        default: return nil
        }
    }

    /// The long options `tributary worker` accepts, from its own help.
    private func workerOptions() async throws -> Set<String> {
        let help = try await CLIProcess.run(["worker", "--help"], in: "/")
        #expect(help.status == 0, "\(help)")
        let words = help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "<" })
        return Set(words.filter { $0.hasPrefix("--") }.map(String.init))
    }

    /// The value after `option` in an argument list.
    private func value(of option: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }

    @Test("systemd unit: unprivileged, SIGTERM, stop timeout beyond the grace period, restarts on failure, env file")
    func systemdUnit() async throws {
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
        let service = try #require(unitSettings(text)["Service"])
        #expect(service["User"] == "tributary" && service["Group"] == "tributary")
        #expect(service["KillSignal"] == "SIGTERM")
        #expect(service["Restart"] == "on-failure")
        #expect(service["EnvironmentFile"] == "/etc/tributary/worker.env")
        #expect(service["NoNewPrivileges"] == "yes")
        // The environment file is installed readable by that user only.
        #expect(text.contains("install -o tributary -g tributary -m 0400 deploy/systemd/worker.env.example /etc/tributary/worker.env"))
        let example = try String(contentsOfFile: Self.root + "/deploy/systemd/worker.env.example", encoding: .utf8)
        for variable in ["REDIS_URL=", "TRIBUTARY_QUEUES=", "TRIBUTARY_CONCURRENCY="] {
            #expect(example.contains("\n" + variable), "worker.env.example lacks \(variable)")
        }

        let command = try #require(service["ExecStart"]).split(separator: " ").map(String.init)
        #expect(Array(command.prefix(2)) == ["/usr/local/bin/tributary", "worker"])
        let options = try await workerOptions()
        for option in command where option.hasPrefix("--") {
            #expect(options.contains(option), "tributary worker has no \(option)")
        }
        let grace = try #require(value(of: "--grace-period", in: command).flatMap(seconds))
        let stopTimeout = try #require(service["TimeoutStopSec"].flatMap(seconds))
        #expect(stopTimeout > grace, "TimeoutStopSec \(stopTimeout) s must exceed --grace-period \(grace) s")
    }

    @Test("systemd unit: systemd-analyze verify accepts it and rejects a broken copy")
    func systemdAnalyzeVerify() async throws {
        // scripts/setup.sh installs Debian's systemd package for the tests (nothing needs to run systemd).
        let analyze = try #require(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "systemd-analyze is missing: run scripts/setup.sh (apt package systemd)")
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // verify checks that ExecStart's program exists: point it at the tributary built beside the tests.
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/tributary", with: CLIProcess.path)
        let unit = directory + "/tributary-worker.service"
        try text.write(toFile: unit, atomically: true, encoding: .utf8)
        let verified = try await TestProcess.runDetached(analyze, ["verify", unit])
        #expect(verified.succeeded, "\(verified)")
        #expect(!(verified.stdout + verified.stderr).contains("tributary-worker.service"), "\(verified)")

        // The tool does look at the file: a setting it cannot parse is reported.
        let broken = directory + "/tributary-broken.service"
        try text.replacingOccurrences(of: "Restart=on-failure", with: "Restart=sometimes").write(toFile: broken, atomically: true, encoding: .utf8)
        let complaint = try await TestProcess.runDetached(analyze, ["verify", broken])
        #expect((complaint.stdout + complaint.stderr).contains("sometimes"), "\(complaint)")
    }

    @Test("Kubernetes manifest: valid YAML; Secret for REDIS_URL, grace period, resources, non-root worker")
    func kubernetesManifest() async throws {
        let path = Self.root + "/deploy/kubernetes/worker.yaml"
        let script = "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"
        let parsed = try await TestProcess.runDetached("/usr/bin/python3", ["-c", script, path])
        #expect(parsed.succeeded, "PyYAML (python3-yaml, installed by scripts/setup.sh) could not read it: \(parsed)")
        let documents = try #require(try JSONValue.parse(parsed.stdout).arrayValue)
        let secret = try #require(documents.first { $0["kind"] == "Secret" })
        let deployment = try #require(documents.first { $0["kind"] == "Deployment" })
        let secretName = try #require(secret["metadata"]?["name"]?.stringValue)
        #expect(secret["stringData"]?["REDIS_URL"]?.stringValue?.hasPrefix("redis") == true)

        let pod = try #require(deployment["spec"]?["template"]?["spec"])
        #expect(deployment["spec"]?["selector"]?["matchLabels"] == deployment["spec"]?["template"]?["metadata"]?["labels"])
        #expect(pod["securityContext"]?["runAsNonRoot"] == true)
        let container = try #require(pod["containers"]?[0])
        #expect(container["command"]?[0]?.stringValue?.hasSuffix("/tributary") == true)
        let arguments = try #require(container["args"]?.arrayValue).compactMap { $0.stringValue }
        #expect(arguments.first == "worker")
        let options = try await workerOptions()
        for option in arguments where option.hasPrefix("--") {
            #expect(options.contains(option), "tributary worker has no \(option)")
        }
        let grace = try #require(value(of: "--grace-period", in: arguments).flatMap(seconds))
        let termination = try #require(pod["terminationGracePeriodSeconds"]?.intValue)
        #expect(termination > Int64(grace), "terminationGracePeriodSeconds \(termination) must exceed --grace-period \(grace) s")

        let redisURL = container["env"]?.arrayValue?.first { $0["name"] == "REDIS_URL" }
        #expect(redisURL?["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue == secretName)
        #expect(redisURL?["valueFrom"]?["secretKeyRef"]?["key"] == "REDIS_URL")
        #expect(container["resources"]?["requests"]?["cpu"] != nil && container["resources"]?["requests"]?["memory"] != nil)
        #expect(container["resources"]?["limits"]?["memory"] != nil)
        #expect(container["securityContext"]?["allowPrivilegeEscalation"] == false)
    }

    @Test("redis.conf fragment: a redis-server that includes it has AOF everysec and noeviction")
    func redisFragment() async throws {
        let include = "include " + Self.root + "/deploy/redis/tributary.conf"
        try await withRedisServer(.init(extraConfig: [include])) { server in
            let client = try await RedisClient.connect(url: server.unixURL)
            var settings: [String] = []
            for name in ["appendonly", "appendfsync", "maxmemory-policy"] {
                settings.append(try await client.send(RedisCommand("CONFIG", "GET", .string(name))).array?[1].string ?? "")
            }
            #expect(settings == ["yes", "everysec", "noeviction"])
            #expect(try await client.checkQueueRequirements().maxMemoryPolicy == "noeviction")
            await client.close()
        }
    }
}
