// FlowInCode: builds a DAG in Swift, submits it as a run, runs it with in-process workers, and inspects it.
//
//   FlowInCode [REDIS_URL]      (default redis://127.0.0.1:6379)
//
// The flow: two extracts in the "io" queue feed a merge, which feeds a publish. The program prints each node's
// state and result from getFlowRun, then the run's status.
import Tributary

let url = CommandLine.arguments.dropFirst().first ?? "redis://127.0.0.1:6379"
let client = try await RedisClient.connect(url: url)

// The same definition a flow file holds, written as a JSON value; FlowCompiler checks it the same way.
let definition: JSONValue = [
    "flow": "nightly-report",
    "queue": "reports",
    "defaults": ["attempts": 3, "backoff": ["type": "exponential", "delay": 1000]],
    "nodes": [
        "extract-us": ["name": "extract", "queue": "io", "data": ["region": "us", "rows": 120]],
        "extract-eu": ["name": "extract", "queue": "io", "data": ["region": "eu", "rows": 80]],
        "merge": ["needs": ["extract-us", "extract-eu"]],
        "publish": ["needs": "merge"],
    ],
]
let plan = try FlowCompiler.compile(definition, source: "FlowInCode")
let flows = FlowProducer(client: client)
let receipt = try await flows.submit(plan)
print("run \(receipt.runId): \(plan.nodes.count) nodes, roots \(plan.roots)")

let io = try Worker(queue: "io", client: client, options: .init(concurrency: 2)) { job in
    ["region": job.data["region"] ?? .null, "rows": job.data["rows"] ?? 0]
}
let reports = try Worker(queue: "reports", client: client) { job in
    switch job.name {
    case "merge":
        // Inputs by node id: each extract's return value.
        let rows = job.inputs.values.compactMap { $0["rows"]?.intValue }.reduce(0, +)
        return ["rows": .int(rows), "regions": .int(Int64(job.inputs.count))]
    default:
        return ["published": job.inputs["merge"] ?? .null]
    }
}
let runners = [Task { try await io.run() }, Task { try await reports.run() }]
let publishId = receipt.jobIds["publish"]!
_ = try await Queue("reports", client: client).waitUntilFinished(publishId)
await io.close()
await reports.close()
for runner in runners { try await runner.value }

guard let run = try await flows.getFlowRun(receipt.runId) else { fatalError("run \(receipt.runId) vanished") }
for node in run.nodes {
    let needs = node.needs.isEmpty ? "" : " needs \(node.needs.joined(separator: ", "))"
    print("  \(node.id) [\(node.state.rawValue)]\(needs) -> \(node.job?.returnValue?.serialized() ?? "-")")
}
print("status: \(run.status.rawValue)")
await client.close()
