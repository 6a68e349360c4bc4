// TypedWorker: a worker whose jobs carry a Codable payload.
//
//   TypedWorker [REDIS_URL]      (default redis://127.0.0.1:6379)
//
// It adds three resize jobs to the queue "thumbnails", one of them with a malformed payload, runs a worker until
// all three have finished, and prints each outcome. The malformed job fails with a reason naming the field; the
// worker carries on with the others.
import Tributary

/// What a producer asks for.
struct ResizeRequest: Codable {
    var url: String
    var width: Int
}

/// What the worker answers.
struct ResizeResult: Codable {
    var url: String
    var thumbnail: String
}

let url = CommandLine.arguments.dropFirst().first ?? "redis://127.0.0.1:6379"
let client = try await RedisClient.connect(url: url)
let queue = try Queue("thumbnails", client: client)

let jobs = try await queue.addBulk([
    JobRequest("resize", data: try JSONValueEncoder().encode(ResizeRequest(url: "https://example.com/a.png", width: 320))),
    JobRequest("resize", data: try JSONValueEncoder().encode(ResizeRequest(url: "https://example.com/b.png", width: 64))),
    JobRequest("resize", data: ["url": "https://example.com/c.png", "width": "wide"]),   // malformed on purpose
])

let worker = try Worker(queue: "thumbnails", client: client, options: .init(concurrency: 2)) { job in
    // A payload that does not decode throws a DecodingError naming the field: the job fails with that reason.
    let request = try job.data(as: ResizeRequest.self)
    let result = ResizeResult(url: request.url, thumbnail: request.url.replacingSuffix(".png", with: "-\(request.width).png"))
    return try JSONValueEncoder().encode(result)
}
let running = Task { try await worker.run() }
for job in jobs {
    do {
        let value = try await queue.waitUntilFinished(job.id)
        let result = try JSONValueDecoder().decode(ResizeResult.self, from: value)
        print("job \(job.id) completed: \(result.thumbnail)")
    } catch let failure as JobFailedError {
        print("job \(job.id) failed: \(failure.reason)")
    }
}
await worker.close()
try await running.value
await client.close()

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self + replacement
    }
}
