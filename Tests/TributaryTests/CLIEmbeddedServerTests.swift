import Foundation
import Testing
@testable import Tributary

/// The embedded Redis in ./.tributary, driven through the `tributary` executable.
@Suite("CLI embedded Redis")
struct CLIEmbeddedServerTests {
    private func pidFile(_ directory: String) -> pid_t? {
        (try? String(contentsOfFile: directory + "/.tributary/redis.pid", encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func mode(_ path: String) -> (type: mode_t, permissions: mode_t)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT, info.st_mode & 0o777)
    }

    @Test("started on first use, reused while it runs, stopped, restarted with its data")
    func lifecycle() async throws {
        try await withCLIDirectory { directory in
            let socket = directory + "/.tributary/redis.sock"
            let notRunning = try await CLIProcess.run(["server", "status"], in: directory)
            #expect(notRunning.status == 3, "\(notRunning)")
            #expect(notRunning.stdout.contains("not running"))

            // First use starts it, with a note on stderr.
            let first = try await CLIProcess.run(["stats", "--json"], in: directory)
            #expect(first.status == 0, "\(first)")
            #expect(first.stderr.contains("started the embedded Redis"))
            #expect(try first.json() == ["queues": []])
            let pid = try #require(pidFile(directory))
            #expect(processIsAlive(pid))  // it outlived the command
            #expect(mode(directory + "/.tributary")?.permissions == 0o700)
            #expect(mode(socket)?.type == S_IFSOCK && mode(socket)?.permissions == 0o700)

            let client = try await RedisClient.connect(url: "unix://" + socket)
            var settings: [String] = []
            for name in ["appendonly", "appendfsync", "maxmemory-policy", "port"] {
                settings.append(try await client.send(RedisCommand("CONFIG", "GET", .string(name))).array?[1].string ?? "")
            }
            #expect(settings == ["yes", "everysec", "noeviction", "0"])
            let queue = try Queue("persisted", client: client)
            let job = try await queue.add("keep", data: ["answer": 42])
            await client.close()

            // Later commands reuse it.
            let again = try await CLIProcess.run(["server", "start"], in: directory)
            #expect(again.status == 0 && again.stdout.contains("already running") && again.stdout.contains("pid \(pid)"), "\(again)")
            let stats = try await CLIProcess.run(["stats", "--json"], in: directory)
            #expect(!stats.stderr.contains("started"), "\(stats)")
            #expect(try stats.json()["queues"]?[0]?["counts"]?["waiting"] == 1)
            let status = try await CLIProcess.run(["server", "status", "--json"], in: directory)
            #expect(status.status == 0, "\(status)")
            #expect(try status.json()["pid"] == .int(Int64(pid)))
            #expect(try status.json()["socket"] == .string(socket))

            // Stopped: the process exits, the socket goes, the data stays.
            let stop = try await CLIProcess.run(["server", "stop"], in: directory)
            #expect(stop.status == 0 && stop.stdout.contains("stopped"), "\(stop)")
            #expect(!processIsAlive(pid))
            #expect(!FileManager.default.fileExists(atPath: socket))
            #expect(try await CLIProcess.run(["server", "status"], in: directory).status == 3)
            let stopAgain = try await CLIProcess.run(["server", "stop"], in: directory)
            #expect(stopAgain.status == 0 && stopAgain.stdout.contains("not running"))

            // Restarted by the next command, which finds the job from before.
            let show = try await CLIProcess.run(["job", "show", job.id, "--queue", "persisted", "--json"], in: directory)
            #expect(show.status == 0, "\(show)")
            #expect(show.stderr.contains("started the embedded Redis"))
            #expect(try show.json()["data"] == ["answer": 42])
            let restarted = try #require(pidFile(directory))
            #expect(restarted != pid && processIsAlive(restarted))
        }
    }

    @Test("two commands starting it at once share one server")
    func concurrentStart() async throws {
        try await withCLIDirectory { directory in
            async let first = CLIProcess.run(["server", "start"], in: directory)
            async let second = CLIProcess.run(["server", "start"], in: directory)
            let results = try await [first, second]
            #expect(results.allSatisfy { $0.status == 0 }, "\(results)")
            #expect(results.filter { $0.stdout.hasPrefix("started") }.count == 1, "\(results)")
            #expect(results.filter { $0.stdout.contains("already running") }.count == 1, "\(results)")
        }
    }

    @Test("a missing redis-server and a socket path past the limit are reported with what to do; exit 3")
    func cannotStart() async throws {
        try await withCLIDirectory { directory in
            let missing = try await CLIProcess.run(["stats"], in: directory,
                                                   environment: ["TRIBUTARY_REDIS_SERVER": "/nonexistent/redis-server"])
            #expect(missing.status == 3, "\(missing)")
            #expect(missing.stderr.contains("apt-get install redis-server"))

            let deep = directory + "/" + String(repeating: "d", count: 90)
            try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
            let long = try await CLIProcess.run(["server", "start"], in: deep)
            #expect(long.status == 3, "\(long)")
            #expect(long.stderr.contains("limited to 107 bytes"))
            #expect(!FileManager.default.fileExists(atPath: deep + "/.tributary/redis.sock"))
        }
    }
}
