// Pipelining: many tasks share one RedisClient; their commands travel back to back on one connection.
//
//   swift run Pipelining redis://127.0.0.1:6379
import Tributary

let url = CommandLine.arguments.dropFirst().first ?? "redis://127.0.0.1:6379"
let client = try await RedisClient.connect(url: url)
try await client.checkQueueRequirements()

let clock = ContinuousClock()
let start = clock.now
let total = try await withThrowingTaskGroup(of: Int.self) { group in
    for task in 0..<50 {
        group.addTask {
            var sum = 0
            for step in 0..<200 {
                let key = "example:pipelining:\(task)"
                sum = try await client.send(RedisCommand("INCRBY", .string(key), .integer(Int64(step)))).int ?? 0
            }
            try await client.send(RedisCommand("DEL", .string("example:pipelining:\(task)")))
            return sum
        }
    }
    var total = 0
    for try await sum in group { total += sum }
    return total
}
print("50 tasks × 200 INCRBY on one connection: total \(total) in \(clock.now - start)")
await client.close()
