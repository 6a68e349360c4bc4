// HelloDependency: the smallest complete Tributary program. It adds a job, runs a worker until the job has
// finished, and prints the job's result.
//
//   HelloDependency [REDIS_URL]      (default redis://127.0.0.1:6379)
import Tributary

let url = CommandLine.arguments.dropFirst().first ?? "redis://127.0.0.1:6379"
let client = try await RedisClient.connect(url: url)
let queue = try Queue("greetings", client: client)
let job = try await queue.add("greet", data: ["name": "world"])

let worker = try Worker(queue: "greetings", client: client) { job in
    let name = job.data["name"]?.stringValue ?? "nobody"
    return .string("Hello, \(name)!")
}
let running = Task { try await worker.run() }
let result = try await queue.waitUntilFinished(job.id)
print("job \(job.id) of \(queue.name) completed: \(result)")   // job 1 of greetings completed: "Hello, world!"
await worker.close()
try await running.value
await client.close()
