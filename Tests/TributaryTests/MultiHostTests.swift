import Foundation
import Testing
@testable import Tributary

/// Workers on separate hosts: two network namespaces, each reaching the test's Redis over TCP through its own
/// veth link, as workers on two machines reach a Redis server on a third.
@Suite("Workers on two hosts (network namespaces)", .serialized,
       .enabled(if: TestHosts.available, "network namespaces cannot be created here (ip netns add needs root or CAP_SYS_ADMIN)"))
struct MultiHostTests {
    /// 24 command steps that fan out and one that needs them all; each step sleeps a little so both hosts get work.
    static let flow: String = {
        let steps = (0..<24).map { #""s\#($0)": {"run": ["sh", "-c", "sleep 0.2; echo \#($0)"]}"# }
        let needs = (0..<24).map { "\"s\($0)\"" }.joined(separator: ", ")
        return #"{"flow": "spread", "queue": "hosts", "nodes": {\#(steps.joined(separator: ", ")), "#
            + #""join": {"needs": [\#(needs)], "run": ["sh", "-c", "cat > /dev/null; echo joined"]}}}"#
    }()

    @Test("workers in two namespaces process one run over TCP; each host ran nodes and the run completes")
    func twoHosts() async throws {
        let hosts = try TestHosts.create(count: 2)
        defer { hosts.remove() }
        let listen = "bind 127.0.0.1 " + hosts.hosts.map(\.gateway).joined(separator: " ")
        try await withRedisServer(.init(extraConfig: [listen])) { server in
            try await withCLIDirectory { directory in
                let client = try await RedisClient.connect(url: server.unixURL)
                defer { Task { await client.close() } }
                var workers: [(host: TestHosts.Host, pid: pid_t, log: String)] = []
                defer {
                    for worker in workers { kill(worker.pid, SIGKILL); _ = ChildProcess.waitForExit(worker.pid, timeout: .seconds(10)) }
                }
                for (index, host) in hosts.hosts.enumerated() {
                    let log = directory + "/worker-\(index).log"
                    let arguments = host.command(CLIProcess.path, [
                        "worker", "-q", "hosts", "--allow-commands", "--concurrency", "2", "--name", "host-\(index)",
                        "--redis", "redis://\(host.gateway):\(server.port)",
                    ])
                    let output = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                    let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
                    defer { close(output); close(input) }
                    let pid = try ChildProcess.spawn(try TestProcess.executablePath("ip"), arguments: arguments, stdin: input,
                                                     stdout: output, stderr: output, workingDirectory: directory,
                                                     environment: CLIProcess.environment())
                    workers.append((host, pid, log))
                }
                // Both workers are connected, each from its own host's address, before the run is submitted.
                let connected = try await eventually(.seconds(60)) {
                    let clients = try await client.send(RedisCommand("CLIENT", "LIST")).string ?? ""
                    return hosts.hosts.allSatisfy { clients.contains("addr=\($0.address):") }
                }
                #expect(connected, "\(workers.map { Self.read($0.log) })")
                let flows = FlowProducer(client: client)
                try await flows.submit(try compiledFlow(Self.flow), runId: "spread")
                let run = try await flows.waitForRun("spread", timeout: .seconds(180))
                #expect(run.status == .completed, "\(workers.map { Self.read($0.log) })")

                let queue = try Queue("hosts", client: client)
                #expect(try await queue.getJob("spread.join")?.returnValue == "joined")
                var ranBy: [String: Int] = [:]
                for index in 0..<24 {
                    let job = try #require(try await queue.getJob("spread.s\(index)"))
                    #expect(job.returnValue == .int(Int64(index)))
                    ranBy[job.processedBy ?? "nobody", default: 0] += 1
                }
                // Every step ran on one of the two hosts, and each host ran some.
                #expect(Set(ranBy.keys) == ["host-0", "host-1"], "\(ranBy)")
                #expect(ranBy.values.reduce(0, +) == 24)
            }
        }
    }

    private static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
