import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Tests of the integration-test harness itself: ``TestRedisServer``, ``TestCertificates`` and
/// ``withRedisServer(_:isolation:_:)``.
@Suite("TestRedisServer harness")
struct TestRedisServerTests {
    /// Runs redis-cli with exactly `arguments` (no harness-provided connection arguments).
    private func redisCLI(_ arguments: [String]) throws -> TestProcessResult {
        try TestProcess.run("redis-cli", arguments, timeout: .seconds(20))
    }

    /// Whether `pid` no longer exists (`kill(pid, 0)` fails with `ESRCH`).
    private func processIsGone(_ pid: Int32) -> Bool {
        kill(pid, 0) == -1 && errno == ESRCH
    }

    /// Whether the host has an IPv6 loopback interface (per `/proc/net/if_inet6`).
    private func ipv6LoopbackAvailable() -> Bool {
        let interfaces = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
        return interfaces.contains("00000000000000000000000000000001")
    }

    /// Whether a file or directory exists at `path`.
    private func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// The default options give a server reachable over both the unix socket and TCP.
    @Test func defaultsAnswerPingOverUnixSocketAndTCP() async throws {
        try await withRedisServer { server throws in
            #expect(server.port > 0)
            #expect(server.port != 6379)
            #expect(server.tlsPort == 0)
            #expect(server.certificates == nil)
            #expect(server.socketPath == server.directory + "/redis.sock")
            #expect(server.tcpURL == "redis://127.0.0.1:\(server.port)")
            #expect(server.unixURL == "unix://\(server.socketPath)")
            #expect(server.tlsURL == "")
            #expect(server.directory.contains("tributary-test-"))
            #expect(server.pid > 0)
            #expect(server.isRunning)

            #expect(try server.cli("PING") == "PONG")
            let overSocket = try redisCLI(["-s", server.socketPath, "PING"])
            #expect(overSocket.succeeded && overSocket.stdout.contains("PONG"), "\(overSocket)")
            let overTCP = try redisCLI(["-h", "127.0.0.1", "-p", String(server.port), "PING"])
            #expect(overTCP.succeeded && overTCP.stdout.contains("PONG"), "\(overTCP)")
            if ipv6LoopbackAvailable() {
                // `localhost` may resolve to ::1 first; the server listens there too.
                let overIPv6 = try redisCLI(["-h", "::1", "-p", String(server.port), "PING"])
                #expect(overIPv6.succeeded && overIPv6.stdout.contains("PONG"), "\(overIPv6)")
            }

            #expect(try server.cli("SET", "greeting", "hello world") == "OK")
            #expect(try server.cli("GET", "greeting") == "hello world")
            #expect(try server.cli("CONFIG", "GET", "save") == "save")
            #expect(try server.cli("CONFIG", "GET", "appendonly") == "appendonly\nno")
        }
    }

    /// With `unixSocket: false` the server is TCP-only and `cli` falls back to TCP.
    @Test func tcpOnlyServer() async throws {
        try await withRedisServer(.init(unixSocket: false)) { server throws in
            #expect(server.socketPath == "")
            #expect(server.unixURL == "")
            #expect(server.port > 0)
            #expect(try server.cli("PING") == "PONG")
            #expect(!exists(server.directory + "/redis.sock"))
        }
    }

    /// With `tcp: false` the server only has its unix socket.
    @Test func unixSocketOnlyServer() async throws {
        try await withRedisServer(.init(tcp: false)) { server throws in
            #expect(server.port == 0)
            #expect(server.tcpURL == "")
            #expect(try server.cli("PING") == "PONG")
            #expect(try server.cli("CONFIG", "GET", "port") == "port\n0")
        }
    }

    /// The generated PKI verifies against its own CA, not against the unrelated one, and the
    /// server certificate carries the expected subjectAltName.
    @Test func certificatesVerifyOnlyAgainstTheirCA() throws {
        let directory = try TestRedisServer.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = try TestCertificates.generate(in: directory)

        for file in [certificates.caFile, certificates.serverCertFile, certificates.serverKeyFile,
                     certificates.clientCertFile, certificates.clientKeyFile, certificates.otherCAFile] {
            #expect(exists(file), "\(file) missing")
        }
        let server = try TestProcess.run("openssl", ["verify", "-CAfile", certificates.caFile, certificates.serverCertFile])
        #expect(server.succeeded, "\(server)")
        let client = try TestProcess.run("openssl", ["verify", "-CAfile", certificates.caFile, certificates.clientCertFile])
        #expect(client.succeeded, "\(client)")
        let wrongCA = try TestProcess.run("openssl", ["verify", "-CAfile", certificates.otherCAFile, certificates.serverCertFile])
        #expect(!wrongCA.succeeded, "\(wrongCA)")

        let text = try TestProcess.runChecked("openssl", ["x509", "-noout", "-text", "-in", certificates.serverCertFile]).stdout
        #expect(text.contains("DNS:localhost"))
        #expect(text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("TLS Web Server Authentication"))
    }

    /// A TLS server accepts redis-cli trusting its CA via `localhost` and rejects one trusting another CA.
    @Test func tlsServerAcceptsItsCAAndRejectsAnotherCA() async throws {
        try await withRedisServer(.init(tls: true)) { server throws in
            let certificates = try #require(server.certificates)
            #expect(server.tlsPort > 0)
            #expect(server.tlsPort != server.port)
            #expect(server.tlsURL == "rediss://localhost:\(server.tlsPort)")

            let trusted = try redisCLI(["--tls", "--cacert", certificates.caFile,
                                        "-h", "localhost", "-p", String(server.tlsPort), "PING"])
            #expect(trusted.succeeded && trusted.stdout.contains("PONG"), "\(trusted)")

            let untrusted = try redisCLI(["--tls", "--cacert", certificates.otherCAFile,
                                          "-h", "localhost", "-p", String(server.tlsPort), "PING"])
            #expect(!untrusted.stdout.contains("PONG"), "\(untrusted)")
            #expect(!untrusted.succeeded, "\(untrusted)")

            let plaintext = try redisCLI(["-h", "127.0.0.1", "-p", String(server.tlsPort), "PING"])
            #expect(!plaintext.stdout.contains("PONG"), "\(plaintext)")
        }
    }

    /// With `tlsAuthClients: "yes"` a client certificate signed by the CA is required.
    @Test func tlsClientCertificateRequiredWhenAuthClientsIsYes() async throws {
        try await withRedisServer(.init(tls: true, tlsAuthClients: "yes")) { server throws in
            let certificates = try #require(server.certificates)
            let base = ["--tls", "--cacert", certificates.caFile, "-h", "localhost", "-p", String(server.tlsPort)]
            let withoutCertificate = try redisCLI(base + ["PING"])
            #expect(!withoutCertificate.stdout.contains("PONG"), "\(withoutCertificate)")
            let withCertificate = try redisCLI(base + ["--cert", certificates.clientCertFile,
                                                       "--key", certificates.clientKeyFile, "PING"])
            #expect(withCertificate.succeeded && withCertificate.stdout.contains("PONG"), "\(withCertificate)")
        }
    }

    /// A TLS-only server (no TCP, no socket) is reachable, and `cli` talks to it over TLS.
    @Test func tlsOnlyServerIsReachableThroughCLI() async throws {
        try await withRedisServer(.init(tcp: false, unixSocket: false, tls: true)) { server throws in
            #expect(server.port == 0 && server.socketPath == "")
            #expect(server.cliConnectionArguments().contains("--tls"))
            #expect(try server.cli("PING") == "PONG")
        }
    }

    /// ACL users authenticate with their password, wrong passwords are rejected, and the default
    /// user requires `requirePassword` (which `cli` supplies automatically).
    @Test func aclUserAuthenticatesAndWrongPasswordFails() async throws {
        let options = TestRedisServer.Options(requirePassword: "top secret \"pw\"",
                                              aclUsers: [("worker", "s3cret", "~* &* +@all")])
        try await withRedisServer(options) { server throws in
            #expect(try server.cli("PING") == "PONG")
            #expect(try server.cli("ACL", "WHOAMI") == "default")

            let worker = try server.runCLI(["-e", "ACL", "WHOAMI"], auth: .user("worker", password: "s3cret"))
            #expect(worker.succeeded && worker.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "worker", "\(worker)")

            let wrong = try server.runCLI(["-e", "PING"], auth: .user("worker", password: "wrong"))
            #expect(!wrong.succeeded, "\(wrong)")
            #expect((wrong.stdout + wrong.stderr).contains("WRONGPASS"), "\(wrong)")

            let anonymous = try server.runCLI(["-e", "PING"], auth: .none)
            #expect(!anonymous.succeeded, "\(anonymous)")
            #expect((anonymous.stdout + anonymous.stderr).contains("NOAUTH"), "\(anonymous)")

            #expect(throws: TestRedisServer.Failure.self) {
                try server.cli("AUTH", "worker", "wrong")
            }
        }
    }

    /// `cli` throws on error replies (redis-cli runs with `-e`) and includes the error text.
    @Test func cliThrowsOnErrorReply() async throws {
        try await withRedisServer { server throws in
            let error = #expect(throws: TestRedisServer.Failure.self) {
                try server.cli("NOSUCHCOMMAND", "x")
            }
            #expect(error?.description.contains("unknown command") == true)
        }
    }

    /// `restart` brings the server back on the same port, socket and directory, as a new process.
    @Test func restartKeepsPortSocketAndDirectory() async throws {
        try await withRedisServer { server throws in
            let (port, socket, directory, oldPID) = (server.port, server.socketPath, server.directory, server.pid)
            try await server.restart()
            #expect(server.port == port)
            #expect(server.socketPath == socket)
            #expect(server.directory == directory)
            #expect(server.pid != oldPID)
            #expect(processIsGone(oldPID))
            #expect(try server.cli("PING") == "PONG")
            let overTCP = try redisCLI(["-h", "127.0.0.1", "-p", String(port), "PING"])
            #expect(overTCP.stdout.contains("PONG"), "\(overTCP)")
        }
    }

    /// `kill` leaves no process behind, keeps the directory, and the server can be restarted;
    /// append-only data survives the crash.
    @Test func killLeavesNoProcessAndRestartRecovers() async throws {
        try await withRedisServer(.init(extraConfig: ["appendfsync always"], appendOnly: true)) { server throws in
            #expect(try server.cli("SET", "survivor", "yes") == "OK")
            let pid = server.pid
            server.kill()
            #expect(processIsGone(pid))
            #expect(!server.isRunning)
            #expect(exists(server.directory))
            #expect(throws: TestRedisServer.Failure.self) { try server.cli("PING") }

            try await server.restart()
            #expect(server.isRunning)
            #expect(server.pid != pid)
            #expect(try server.cli("GET", "survivor") == "yes")
        }
    }

    /// `stop` ends the process, removes the directory, and is idempotent; restart afterwards throws.
    @Test func stopRemovesDirectoryAndIsIdempotent() async throws {
        let server = try await TestRedisServer.start()
        let (pid, directory) = (server.pid, server.directory)
        #expect(exists(directory))
        server.stop()
        #expect(processIsGone(pid))
        #expect(!exists(directory))
        #expect(!server.isRunning)
        server.stop()
        server.kill()
        await #expect(throws: TestRedisServer.Failure.self) { try await server.restart() }
    }

    /// `withRedisServer` stops the server even when its body throws.
    @Test func withRedisServerStopsWhenBodyThrows() async throws {
        struct Boom: Error {}
        var seen: (pid: Int32, directory: String)?
        await #expect(throws: Boom.self) {
            try await withRedisServer { server throws in
                seen = (server.pid, server.directory)
                throw Boom()
            }
        }
        let (pid, directory) = try #require(seen)
        #expect(processIsGone(pid))
        #expect(!exists(directory))
    }

    /// Dropping the last reference stops the server.
    @Test func deinitStopsServer() async throws {
        var server: TestRedisServer? = try await TestRedisServer.start(.init(tcp: false))
        let (pid, directory) = try #require(server.map { ($0.pid, $0.directory) })
        #expect(try server?.cli("PING") == "PONG")
        server = nil
        #expect(processIsGone(pid))
        #expect(!exists(directory))
    }

    /// Extra config lines and `appendOnly` end up in the running configuration.
    @Test func extraConfigAndAppendOnlyAreApplied() async throws {
        try await withRedisServer(.init(extraConfig: ["maxmemory 10mb", "maxmemory-policy allkeys-lru"], appendOnly: true)) { server throws in
            #expect(try server.cli("CONFIG", "GET", "appendonly") == "appendonly\nyes")
            #expect(try server.cli("CONFIG", "GET", "maxmemory") == "maxmemory\n10485760")
            #expect(try server.cli("CONFIG", "GET", "maxmemory-policy") == "maxmemory-policy\nallkeys-lru")
            #expect(server.readLog().lowercased().contains("ready to accept connections"))
        }
    }

    /// A bad config makes `start` throw a startup failure that carries redis-server's complaint.
    @Test func invalidConfigurationReportsStartupFailure() async throws {
        let error = await #expect(throws: TestRedisServer.Failure.self) {
            _ = try await TestRedisServer.start(.init(extraConfig: ["definitely-not-a-directive yes"]))
        }
        #expect(error?.description.contains("definitely-not-a-directive") == true, "\(String(describing: error))")
        await #expect(throws: TestRedisServer.Failure.self) {
            _ = try await TestRedisServer.start(.init(tcp: false, unixSocket: false))
        }
        await #expect(throws: TestRedisServer.Failure.self) {
            _ = try await TestRedisServer.start(.init(tlsAuthClients: "maybe"))
        }
    }

    /// redis-server starts with an empty signal mask (so `SIGTERM` works even when spawned from a
    /// concurrency worker thread) and inherits none of the test process's other descriptors.
    @Test func serverHasCleanSignalMaskAndNoInheritedDescriptors() async throws {
        let marker = FileManager.default.temporaryDirectory.path + "/tributary-fd-marker-\(UInt64.random(in: 0...UInt64.max))"
        let leaky = open(marker, O_CREAT | O_RDWR, 0o600)
        #expect(leaky >= 0)
        defer { close(leaky); unlink(marker) }
        try await withRedisServer { server throws in
            let status = try String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8)
            let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
            #expect(blocked?.hasSuffix("0000000000000000") == true, "\(String(describing: blocked))")
            let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")
            let targets = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/fd/\($0)") }
            #expect(!targets.isEmpty)
            #expect(!targets.contains(marker), "\(targets)")
        }
    }

    /// Servers started concurrently get distinct ports and directories and all work.
    @Test func concurrentServersGetDistinctPorts() async throws {
        let servers = try await withThrowingTaskGroup(of: TestRedisServer.self) { group in
            for _ in 0..<4 { group.addTask { try await TestRedisServer.start() } }
            return try await group.reduce(into: [TestRedisServer]()) { $0.append($1) }
        }
        defer { for server in servers { server.stop() } }
        #expect(Set(servers.map(\.port)).count == 4)
        #expect(Set(servers.map(\.directory)).count == 4)
        for server in servers {
            #expect(try server.cli("PING") == "PONG")
        }
    }

    /// If the test process dies without stopping its server (here: a swift-testing exit test that
    /// starts a server and calls `_exit`), the watchdog kills redis-server and removes its directory.
    @Test func watchdogCleansUpWhenTestProcessDies() async throws {
        let result = await #expect(processExitsWith: .exitCode(42), observing: [\.standardOutputContent]) {
            let server = try await TestRedisServer.start()
            print("WATCHED \(server.pid) \(server.directory)")
            fflush(nil)
            _exit(42)
        }
        let output = String(decoding: try #require(result).standardOutputContent, as: UTF8.self)
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("WATCHED ") })
        let fields = line.split(separator: " ")
        let pid = try #require(fields.count == 3 ? Int32(fields[1]) : nil)
        let directory = String(fields[2])
        let deadline = ContinuousClock.now + .seconds(10)
        while (!processIsGoneOrZombie(pid) || exists(directory)) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(processIsGoneOrZombie(pid))
        #expect(!exists(directory))
    }

    /// Whether `pid` is gone or a zombie (an orphan may wait for a non-reaping PID 1 in containers).
    private func processIsGoneOrZombie(_ pid: Int32) -> Bool {
        if processIsGone(pid) { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
