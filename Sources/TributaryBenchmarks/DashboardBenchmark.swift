import Foundation
import Tributary
import TributaryDashboard

/// `TributaryBenchmarks dashboard` (scripts/bench.sh, rows D1): the dashboard's pages on a queue of `--jobs`
/// waiting jobs (default 100,000) and a run of `--nodes` nodes (default 10,000, ten layers), served in this process
/// on 127.0.0.1 from a private redis-server on a unix socket. Each page is loaded `--loads` times (default 100)
/// over HTTP (a plain socket, one connection per load); the row gives p50 and p99 of the wall time of a whole
/// load, the page's size, and the Redis commands one load costs (`total_commands_processed` before and after,
/// less the INFO that reads it; a script call counts once).
enum DashboardBenchmark {
    static func run(_ arguments: [String]) async throws {
        var jobs = 100_000, nodes = 10_000, loads = 100
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? Int(arguments[index + 1]) : nil
            switch arguments[index] {
            case "--jobs": jobs = value ?? jobs
            case "--nodes": nodes = value ?? nodes
            case "--loads": loads = value ?? loads
            default: throw BenchmarkError("unknown option '\(arguments[index])' (dashboard: --jobs N, --nodes N, --loads N)")
            }
            index += 2
        }
        let server = try RedisServerProcess(unixSocket: true)
        defer { server.stop() }
        let client = try await RedisClient.connect(try RedisConfiguration(url: server.url))
        let queue = try Queue("bench-jobs", client: client)
        var added = 0
        while added < jobs {
            let batch = min(1000, jobs - added)
            _ = try await queue.addBulk((0..<batch).map { offset in
                JobRequest((added + offset) % 10 == 0 ? "resize-image" : "send-mail", data: ["n": .int(Int64(added + offset))])
            })
            added += batch
        }
        let plan = try FlowCompiler.compile(FlowShowBenchmark.flowFile(shape: "layers", nodes: nodes), source: "bench.json")
        _ = try await FlowProducer(client: client).submit(plan, runId: "bench-layers")
        let dashboard = try DashboardServer(client: client, configuration: DashboardConfiguration(
            port: 0, readOnly: true, queues: ["bench-jobs", "bench"]))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let serving = Task { try await dashboard.run { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchmarkError("the dashboard did not start") }
        let pages = [
            ("queues", "/"), ("queue", "/queues/bench-jobs"),
            ("jobs, first page", "/queues/bench-jobs/jobs?state=waiting"),
            ("jobs, page at 50,000", "/queues/bench-jobs/jobs?state=waiting&offset=50000"),
            ("jobs, name search", "/queues/bench-jobs/jobs?state=waiting&name=resize"),
            ("jobs, search without match", "/queues/bench-jobs/jobs?state=waiting&name=nothing-matches"),
            ("job", "/queues/bench-jobs/jobs/\(jobs / 2)"), ("runs", "/runs"),
            ("run page (DAG)", "/runs/bench-layers"), ("run drawing (live update)", "/runs/bench-layers/dag"),
            ("metrics", "/metrics"),
        ]
        print("| D1 page (\(jobs) jobs, \(nodes)-node run) | p50 ms | p99 ms | KB | Redis commands |")
        print("|---|---:|---:|---:|---:|")
        for (name, path) in pages {
            let before = try await commandsProcessed(client)
            let first = try HTTPLoad.get(port: port, path: path)
            let after = try await commandsProcessed(client)
            guard first.status == 200 else { throw BenchmarkError("\(path) answered \(first.status)") }
            var times: [Double] = []
            for _ in 0..<loads {
                let start = ContinuousClock.now
                let reply = try HTTPLoad.get(port: port, path: path)
                guard reply.status == 200 else { throw BenchmarkError("\(path) answered \(reply.status)") }
                let elapsed = ContinuousClock.now - start
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            times.sort()
            let p50 = times[times.count / 2], p99 = times[min(times.count - 1, Int(Double(times.count) * 0.99))]
            print("| \(name) | \(String(format: "%.1f", p50)) | \(String(format: "%.1f", p99)) | "
                + "\(first.bodyBytes / 1024) | \(after - before - 1) |")
        }
        serving.cancel()
        _ = try? await serving.value
        await client.close()
    }

    static func commandsProcessed(_ client: RedisClient) async throws -> Int {
        let info = try await client.send(RedisCommand("INFO", "stats")).string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_commands_processed:") } ?? ""
        return Int(line.split(separator: ":").last ?? "") ?? 0
    }
}

/// One HTTP/1.1 GET on a fresh TCP connection to 127.0.0.1, read to the end (`Connection: close`). Blocking: the
/// benchmark's loads run one after another.
enum HTTPLoad {
    struct Reply { let status: Int; let bodyBytes: Int }

    static func get(port: Int, path: String) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw BenchmarkError("connect: errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { throw BenchmarkError("write: errno \(errno)") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response.prefix(64), as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        let headerEnd = response.indices.dropLast(3).first {
            response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10
        } ?? response.count
        return Reply(status: status, bodyBytes: max(0, response.count - headerEnd - 4))
    }
}
