import ArgumentParser
import Foundation
import Tributary

/// `tributary flow show|list|cancel|retry`.
struct FlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Show, list, cancel or retry flow runs; show BullMQ flow trees.",
        discussion: """
            Examples:
              tributary flow show 3f9c2a
              tributary flow show 3f9c2a --format mermaid
              tributary flow show 12 --queue reports
              tributary flow list --flow nightly-report
              tributary flow cancel 3f9c2a
              tributary flow retry 3f9c2a --work --allow-commands
            """,
        subcommands: [Show.self, List.self, Cancel.self, Retry.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a flow run, or the BullMQ flow tree under a job, with states, durations and results.",
            discussion: """
                With a run id, the run's DAG is drawn from its sinks down to the nodes they need; a node needed by \
                several others is drawn once and referenced (↪) elsewhere. Twenty or more siblings with the same \
                name and state are one line with their count (`✔ process ×1000 (process-1 … process-1000)`; \
                --expand draws each); levels deeper than 32 continue (⤷) as trees of their own below. With --queue, the argument is a job id \
                and the tree under that job is read the way BullMQ's getFlow reads it, so trees added by Node or \
                Python BullMQ show too.

                Marks: ✔ completed, ✘ failed, ▶ active, ○ waiting, ◷ delayed, ◌ waiting for its inputs, ? gone \
                (removed or trimmed; state "gone" in JSON too), ⊘ skipped (its `when` did not hold). A map node is \
                drawn once with its item counts (`convert ×1000  1000 items: 998 completed, 2 failed`); --expand \
                lists its items. \
                Results and failure reasons are cut to one short line; `job show` prints them in full.

                Formats: tree (default), json, dot (Graphviz: `| dot -Tsvg > run.svg`), mermaid.

                Exit codes: 0 shown, 4 no such run or job.

                Examples:
                  tributary flow show 3f9c2a
                  tributary flow show 3f9c2a --format dot | dot -Tsvg > run.svg
                  tributary flow show 12 --queue reports --depth 3
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "A run id, or with --queue a job id.")
        var id: String

        @Option(name: [.customShort("q"), .long], help: "Read the BullMQ tree under job ID of this queue.")
        var queue: String?

        @Option(help: "Output format: tree, json, dot or mermaid.")
        var format: FlowFormat = .tree

        @Flag(help: "Draw every node of large fan-outs (by default, 20 or more siblings with the same name and state are one line), and list the items of map nodes.")
        var expand = false

        @Option(help: "With --queue: how many levels to read.")
        var depth = 10

        @Option(help: "With --queue: at most this many children of each kind per node.")
        var maxChildren = 100

        func run() async throws {
            try await connection.withClient { client in
                let producer = FlowProducer(client: client, prefix: connection.prefix)
                let view: FlowRunView
                if let queue {
                    guard let tree = try await producer.getFlow(id: id, queue: queue, depth: depth, maxChildren: maxChildren) else {
                        throw CLIError("job \(id) does not exist in queue '\(queue)' (prefix '\(connection.prefix)')", status: .notFound)
                    }
                    view = FlowRunView(tree: tree)
                } else {
                    guard let run = try await producer.getFlowRun(id, jobs: .summary) else {
                        throw CLIError("no flow run '\(id)' under prefix '\(connection.prefix)' (for a BullMQ tree, pass its "
                            + "root job id with --queue)", status: .notFound)
                    }
                    var maps: [String: MapProgress] = [:]
                    for node in run.nodes {
                        maps[node.id] = try await producer.mapProgress(of: node, items: expand)
                    }
                    view = FlowRunView(run: run, maps: maps)
                }
                let options = FlowRunView.TreeOptions(summariseAt: expand ? nil : 20)
                print(FlowRendering.render(view, format: format, now: Int64(Date().timeIntervalSince1970 * 1000),
                                           treeOptions: options))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List flow runs, newest first.",
            discussion: """
                Examples:
                  tributary flow list
                  tributary flow list --flow nightly-report --limit 5 --json
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: JSONOutputOption

        @Option(help: "Only runs of this flow.")
        var flow: String?

        @Option(help: "At most this many runs.")
        var limit = 20

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            try await connection.withClient { client in
                let producer = FlowProducer(client: client, prefix: connection.prefix)
                let summaries = try await producer.listFlowRuns(flow: flow, limit: limit)
                var rows: [(summary: FlowRunSummary, status: String, states: String)] = []
                for summary in summaries {
                    let run = try await producer.getFlowRun(summary.id, jobs: .summary)
                    rows.append((summary, run?.status.rawValue ?? "gone", run.map { FlowRunView(run: $0).stateSummary } ?? ""))
                }
                if output.json {
                    print(JSONValue.array(rows.map { row in
                        .object([
                            "run": .string(row.summary.id), "flow": .string(row.summary.flow), "status": .string(row.status),
                            "createdAt": .int(row.summary.createdAt),
                            "cancelledAt": row.summary.cancelledAt.map { .int($0) } ?? .null,
                            "nodes": .int(Int64(row.summary.nodeCount)),
                            "schedule": row.summary.schedule.map { .string($0) } ?? .null,
                        ])
                    }).prettyPrinted())
                } else if rows.isEmpty {
                    print("no flow runs\(flow.map { " of flow '\($0)'" } ?? "") under prefix '\(connection.prefix)'")
                } else {
                    print(Output.table(["RUN", "FLOW", "STATUS", "CREATED", "NODES", "SCHEDULE"], rows.map { row in
                        [row.summary.id, row.summary.flow, row.status, Output.timestamp(row.summary.createdAt), row.states,
                         row.summary.schedule ?? "-"]
                    }))
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a flow run: its pending nodes are removed; active ones finish.",
            discussion: """
                A run that has finished (completed, failed, or cancelled already) is left as it is: the command says \
                so and exits 1. An active node's failed attempt is not retried once its run is cancelled.

                Exit codes: 0 cancelled, 1 the run had already finished (nothing changed), 4 no such run.

                Examples:
                  tributary flow cancel 3f9c2a
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The run id.")
        var runId: String

        func run() async throws {
            try await connection.withClient { client in
                let producer = FlowProducer(client: client, prefix: connection.prefix)
                let result = try await producer.cancelFlowRun(runId)
                print("cancelled run \(runId): \(result.removed) pending node(s) removed, \(result.left) left (active or finished)")
            }
        }
    }
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Redrive a flow run: what failed, was removed or was cancelled runs again; completed nodes keep their results.",
            discussion: """
                In one atomic step, every failed node goes back to run with fresh attempts, and so does every node \
                that was removed or cancelled (stored again from the run record), that was failed or held because \
                of a failed input, or that is unfinished and needs a node that runs again. Each waits for the nodes \
                it needs that run again, then runs with all its inputs. Completed nodes do not run again, unless \
                their result is needed and was removed with their job (removeOnComplete). A cancelled run is \
                resumed this way. Active nodes are left to finish with the inputs they had.

                --wait, --work and --allow-commands work as in `tributary run`.

                Exit codes: 0 retried (with --wait: the run completed), 1 the run failed again, was cancelled or \
                outlived --timeout, 3 Redis unreachable, 4 no such run.

                Examples:
                  tributary flow retry 3f9c2a
                  tributary flow retry 3f9c2a --work --allow-commands
                  tributary flow retry 3f9c2a --wait --timeout 10m
                """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var following: RunFollowOptions
        @OptionGroup var output: JSONOutputOption

        @Argument(help: "The run id.")
        var runId: String

        func run() async throws {
            let configuration = try await connection.configuration(.failFast)
            let client = try await RunFollowOptions.connect(configuration)
            do {
                try await retry(client: client, configuration: configuration)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        }

        private func retry(client: RedisClient, configuration: RedisConfiguration) async throws {
            let producer = FlowProducer(client: client, prefix: connection.prefix)
            let result: FlowRunRetry
            do {
                result = try await producer.retryFlowRun(runId)
            } catch let error as QueueError where error.code == .runNotFound {
                throw CLIError(error.message, status: .notFound)
            }
            if output.json && !following.follows {
                print(JSONValue.object(["run": .string(runId), "rerun": .int(Int64(result.rerun)),
                                        "kept": .int(Int64(result.kept)), "active": .int(Int64(result.active))]).serialized())
            } else if !output.json {
                print(result.rerun == 0
                    ? "run \(runId): nothing to retry (\(result.kept) node(s) completed, \(result.active) active)"
                    : "run \(runId): \(result.rerun) node(s) sent back to run, \(result.kept) kept their results, "
                        + "\(result.active) active left to finish")
            }
            fflush(nil)
            guard following.follows else { return }
            guard let run = try await producer.getFlowRun(runId, jobs: .summary) else {
                throw CLIError("flow run \(runId) disappeared", status: .notFound)
            }
            try await following.follow(runId: runId, queues: Array(Set(run.nodes.map(\.queue))).sorted(),
                                       producer: producer, configuration: configuration, json: output.json)
        }
    }
}

extension FlowFormat: ExpressibleByArgument {}
