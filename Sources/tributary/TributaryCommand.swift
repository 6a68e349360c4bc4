import ArgumentParser
import Tributary

@main
struct TributaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Flow/DAG orchestration on Redis, wire-compatible with BullMQ.",
        version: Tributary.version
    )
}
