import ArgumentParser
import Tributary

@main
struct TributaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Flow/DAG orchestration on Redis, wire-compatible with BullMQ.",
        discussion: """
            Only the foundation exists so far (Redis client, JSON); `demo` exercises it end to end.
            """,
        version: Tributary.version,
        subcommands: [Demo.self]
    )
}
