// StepFanOut: a dynamic fan-out with BullMQ's step pattern. A "crawl" job does not know its work in advance: on
// its first run it looks at its data, adds one child per page to the "pages" queue and moves itself to
// waiting-children; when the children are done it runs again, sees them in childrenValues, and completes.
//
//   StepFanOut [REDIS_URL] [PAGES]      (defaults redis://127.0.0.1:6379 and 5)
import Tributary

let arguments = Array(CommandLine.arguments.dropFirst())
let url = arguments.first ?? "redis://127.0.0.1:6379"
let pageCount = arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5
let client = try await RedisClient.connect(url: url)
let crawls = try Queue("crawls", client: client)

let crawler = try Worker(queue: "crawls", client: client) { job in
    // The step is kept in the job's data, so a re-run after a crash resumes at the right place.
    if job.data["step"]?.stringValue != "collect" {
        let pages = (1...(job.data["pages"]?.intValue ?? 1)).map { page in
            JobRequest("fetch", data: ["site": job.data["site"] ?? .null, "page": .int(page)])
        }
        _ = try await job.addChildren(pages, queue: "pages")
        var next = job.data.objectValue ?? [:]
        next["step"] = "collect"
        try await job.updateData(.object(next))
        // Throws WaitingChildrenError when children are pending: let it propagate, the worker parks the job.
        if try await job.moveToWaitingChildren() == false {
            print("all pages were done before the crawl could wait")
        }
    }
    let values = try await job.childrenValues()
    let bytes = values.values.compactMap { $0["bytes"]?.intValue }.reduce(0, +)
    return ["pages": .int(Int64(values.count)), "bytes": .int(bytes)]
}
let fetcher = try Worker(queue: "pages", client: client, options: .init(concurrency: 4)) { job in
    let page = job.data["page"]?.intValue ?? 0
    return ["page": .int(page), "bytes": .int(1000 * page)]
}
let runners = [Task { try await crawler.run() }, Task { try await fetcher.run() }]
let crawl = try await crawls.add("crawl", data: ["site": "example.com", "pages": .int(Int64(pageCount))])
let result = try await crawls.waitUntilFinished(crawl.id)
print("crawl \(crawl.id): \(result.serialized())")
await crawler.close()
await fetcher.close()
for runner in runners { try await runner.value }
await client.close()
