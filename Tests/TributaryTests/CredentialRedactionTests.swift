import Foundation
import Testing
@testable import Tributary

/// Passwords never appear in errors, logs, descriptions or process listings; command steps do not inherit the
/// worker's credentials unless asked.
@Suite("Credential redaction")
struct CredentialRedactionTests {
    private static let secret = "hunter2-Zq9"

    @Test("redacted(url:) hides the user-info password and password= items, and keeps the rest")
    func redactedURLs() {
        let cases: [(String, String)] = [
            ("redis://worker:\(Self.secret)@cache:6380/2", "redis://worker:***@cache:6380/2"),
            ("redis://:\(Self.secret)@10.0.0.1", "redis://:***@10.0.0.1"),
            ("rediss://u:\(Self.secret)@h?ca=/ca.pem&password=\(Self.secret)", "rediss://u:***@h?ca=/ca.pem&password=***"),
            ("unix:///run/redis.sock?db=1&PASSWORD=\(Self.secret)", "unix:///run/redis.sock?db=1&PASSWORD=***"),
            ("redis://a:b:\(Self.secret)@h:1", "redis://a:***@h:1"),
            ("redis://worker@cache", "redis://worker@cache"),
            ("redis://cache:6379", "redis://cache:6379"),
            ("redis:/u:\(Self.secret)@host", "***@host"),
        ]
        for (url, expected) in cases {
            #expect(RedisConfiguration.redacted(url: url) == expected, "\(url)")
        }
    }

    @Test("URL errors name the URL without its password")
    func parseErrors() {
        let bad = [
            "redis://u:\(Self.secret)@host:notaport", "redis://u:\(Self.secret)@host/x", "ftp://u:\(Self.secret)@host",
            "redis://u:\(Self.secret)@[::1", "redis://u:\(Self.secret)@host?bogus=1", "redis://u:\(Self.secret)@host?db=x",
            "redis://h?password=\(Self.secret)&connect_timeout=never", "redis:/u:\(Self.secret)@host",
        ]
        for url in bad {
            #expect {
                try RedisConfiguration(url: url)
            } throws: { error in
                let text = "\(error)"
                return (error as? RedisClientError)?.code == .invalidURL && !text.contains(Self.secret) && text.contains("***")
            }
        }
    }

    @Test("a configuration's description, debug description and dump hide the password")
    func descriptions() throws {
        let configuration = try RedisConfiguration(url: "rediss://worker:\(Self.secret)@cache.internal:6390/3")
        #expect(configuration.description == "rediss://worker:***@cache.internal:6390/3")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains(Self.secret), "\(text)")
        }
        #expect(dumped.contains("cache.internal"))
        #expect(try RedisConfiguration(url: "unix:///tmp/r.sock").description == "unix:///tmp/r.sock")
    }

    @Test("CLI: an unreachable or malformed URL's error names the endpoint, not the password")
    func cliErrors() async throws {
        try await withCLIDirectory { directory in
            let unreachable = try await CLIProcess.run(["stats", "--redis", "redis://u:\(Self.secret)@127.0.0.1:1"], in: directory)
            #expect(unreachable.status == 3, "\(unreachable)")
            #expect(unreachable.stderr.contains("127.0.0.1:1") && !unreachable.stderr.contains(Self.secret), "\(unreachable)")
            let malformed = try await CLIProcess.run(["stats"], in: directory,
                                                     environment: ["REDIS_URL": "redis://u:\(Self.secret)@127.0.0.1:port"])
            #expect(malformed.status == 2, "\(malformed)")
            #expect(malformed.stderr.contains("redis://u:***@127.0.0.1:port") && !malformed.stderr.contains(Self.secret),
                    "\(malformed)")
        }
    }

    @Test("CLI worker: the password is not in /proc/PID/cmdline nor in its debug log, and it still connects")
    func processListing() async throws {
        var options = TestRedisServer.Options()
        options.requirePassword = Self.secret
        try await withRedisServer(options) { server in
            try await withCLIDirectory { directory in
                let logFile = directory + "/worker.log"
                let url = "redis://:\(Self.secret)@127.0.0.1:\(server.port)"
                let pid = try CLIProcess.spawn(["worker", "-q", "hidden", "--log-level", "debug", "--redis", url],
                                               in: directory, logFile: logFile)
                defer { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
                let log = { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
                #expect(try await eventually(.seconds(30)) { log().contains("starting") }, "\(log())")
                let commandLine = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
                #expect(!commandLine.contains(Self.secret))
                #expect(commandLine.contains("redis://:***@127.0.0.1:\(server.port)"), "\(commandLine.debugDescription)")
                // "starting" comes after the connection, so the real password was used: the server requires it.
                kill(pid, SIGTERM)
                #expect(await CLIProcess.waitForExit(pid, timeout: .seconds(30)) == 0, "\(log())")
                #expect(!log().contains(Self.secret), "\(log())")
                #expect(log().contains("127.0.0.1:\(server.port)"))
            }
        }
    }

    @Test("command steps do not inherit REDIS_URL or TRIBUTARY_KEYS unless --pass-env names them")
    func commandEnvironment() async throws {
        try await withCLIDirectory { directory in
            try await withQueue("env") { (queue, client, server) async throws in
                let probe = ["sh", "-c", #"printf '%s|%s|%s' "${REDIS_URL-unset}" "${TRIBUTARY_KEYS-unset}" "${HOME-unset}""#]
                let environment = ["REDIS_URL": server.unixURL, "TRIBUTARY_KEYS": "k1:\(TestKeys.k1)", "HOME": "/home/probe"]
                for (passed, expected) in [([], "unset|unset|/home/probe"),
                                           (["--pass-env", "REDIS_URL"], "\(server.unixURL)|unset|/home/probe")] {
                    let job = try await addCommandJob(queue, client, command: probe)
                    let logFile = directory + "/worker-\(job.id).log"
                    let pid = try CLIProcess.spawn(["worker", "-q", "env", "--allow-commands"] + passed, in: directory,
                                                   logFile: logFile, environment: environment)
                    let done = try await eventually(.seconds(30)) { try await queue.getState(job.id) == .completed }
                    kill(pid, SIGTERM)
                    let status = await CLIProcess.waitForExit(pid, timeout: .seconds(30))
                    if status == nil { kill(pid, SIGKILL); _ = ChildProcess.waitForExit(pid, timeout: nil) }
                    let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                    #expect(done, "\(log)")
                    #expect(try await queue.getJob(job.id)?.returnValue == .string(expected), "\(passed)")
                }
            }
        }
    }

    @Test("CommandStep.environment withholds the credential variables, passes the named ones, adds its own")
    func environmentPolicy() {
        let inherited = ["REDIS_URL": "redis://:pw@h", "REDISCLI_AUTH": "pw", "TRIBUTARY_KEYS": "k:x",
                         "TRIBUTARY_KEYS_FILE": "/k", "PATH": "/bin"]
        let plain = CommandStep.environment(inheriting: inherited, options: .init())
        #expect(plain == ["PATH": "/bin"])
        let passed = CommandStep.environment(
            inheriting: inherited, options: .init(environment: ["EXTRA": "1"], passedEnvironment: ["TRIBUTARY_KEYS"]))
        #expect(passed == ["PATH": "/bin", "TRIBUTARY_KEYS": "k:x", "EXTRA": "1"])
    }
}
