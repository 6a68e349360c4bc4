import ArgumentParser
import Foundation
import Tributary

/// `tributary server start|stop|status`: the embedded Redis in ./.tributary.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Start, stop or inspect the embedded Redis in ./.tributary.",
        discussion: """
            Commands run without --redis (and without REDIS_URL) use a private redis-server that tributary starts \
            on demand: it listens only on the unix socket ./.tributary/redis.sock (directory mode 0700, socket \
            mode 700), keeps its data in ./.tributary (appendonly yes, appendfsync everysec), uses \
            maxmemory-policy noeviction, and keeps running after the command that started it, until \
            `tributary server stop`. Its data survives restarts.

            Examples:
              tributary server start
              tributary server status --json
              tributary server stop
              redis-cli -s .tributary/redis.sock keys 'bull:*'
            """,
        subcommands: [Start.self, Stop.self, Status.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the embedded Redis unless it is already running.",
            discussion: """
                Prints the socket URL. Exits 0 whether it started the server or found it running; 3 when \
                redis-server is not installed or does not start.

                Examples:
                  tributary server start
                """
        )

        func run() async throws {
            let server = EmbeddedServer()
            let started = try await server.ensureRunning()
            let pid = server.readPIDFile().map { " (pid \($0))" } ?? ""
            print(started ? "started the embedded Redis\(pid) at \(server.url)" : "the embedded Redis\(pid) is already running at \(server.url)")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the embedded Redis (its data stays in ./.tributary).",
            discussion: """
                Sends SHUTDOWN (the AOF is flushed), or SIGTERM when the server does not answer, and waits for the \
                process to exit. Exits 0 also when no server was running.

                Examples:
                  tributary server stop
                """
        )

        @Option(help: "How long to wait for the server to exit.")
        var timeout = DurationArgument(.seconds(60), text: "60s")

        func run() async throws {
            let server = EmbeddedServer()
            if let pid = try await server.stop(timeout: timeout.duration) {
                print("stopped the embedded Redis (pid \(pid)); its data stays in \(server.directory)")
            } else {
                print("the embedded Redis is not running (\(server.directory))")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show whether the embedded Redis runs, with its socket, pid, uptime and memory.",
            discussion: """
                Exits 0 when it runs, 3 when it does not.

                Examples:
                  tributary server status
                  tributary server status --json
                """
        )

        @OptionGroup var output: JSONOutputOption

        func run() async throws {
            let server = EmbeddedServer()
            guard let info = try await server.info() else {
                if output.json {
                    print(JSONValue.object(["running": false, "directory": .string(server.directory)]).prettyPrinted())
                } else {
                    print("the embedded Redis is not running (\(server.directory))")
                }
                throw ExitCode(ExitStatus.redisUnavailable.rawValue)
            }
            let pid = Int64(info["process_id"] ?? "") ?? 0
            let uptime = Int64(info["uptime_in_seconds"] ?? "") ?? 0
            let keys = info.filter { $0.key.hasPrefix("db") }.values.compactMap(Self.keyCount).reduce(0, +)
            if output.json {
                let object: JSONObject = [
                    "running": true, "directory": .string(server.directory), "socket": .string(server.socketPath),
                    "url": .string(server.url), "pid": .int(pid), "version": .string(info["redis_version"] ?? ""),
                    "uptimeSeconds": .int(uptime), "usedMemory": .int(Int64(info["used_memory"] ?? "") ?? 0),
                    "usedMemoryHuman": .string(info["used_memory_human"] ?? ""), "keys": .int(Int64(keys)),
                    "connectedClients": .int(Int64(info["connected_clients"] ?? "") ?? 0),
                    "appendonly": .bool(info["aof_enabled"] == "1"), "logFile": .string(server.logFile),
                ]
                print(JSONValue.object(object).prettyPrinted())
                return
            }
            print("""
                the embedded Redis is running
                  socket:   \(server.socketPath)
                  url:      \(server.url)
                  pid:      \(pid)
                  version:  \(info["redis_version"] ?? "?")
                  uptime:   \(uptime < 60 ? "\(uptime)s" : Output.duration(milliseconds: uptime * 1000))
                  memory:   \(info["used_memory_human"] ?? "?") used
                  keys:     \(keys)
                  clients:  \(info["connected_clients"] ?? "?")
                  data:     \(server.directory) (appendonly \(info["aof_enabled"] == "1" ? "yes" : "no"))
                  log:      \(server.logFile)
                """)
        }

        /// `keys=12,expires=0,avg_ttl=0` → 12.
        static func keyCount(_ text: String) -> Int? {
            text.split(separator: ",").first { $0.hasPrefix("keys=") }.flatMap { Int($0.dropFirst(5)) }
        }
    }
}
