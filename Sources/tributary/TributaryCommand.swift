import ArgumentParser
import Foundation
import Logging
import Tributary

@main
struct TributaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "Flow/DAG orchestration on Redis, wire-compatible with BullMQ.",
        discussion: """
            Without --redis (or REDIS_URL), commands use an embedded redis-server that tributary starts on a unix \
            socket in ./.tributary (AOF on, noeviction) and that keeps running, with its data, until \
            `tributary server stop`.

            Examples:
              tributary run flows/hello.json --work --allow-commands
              tributary validate flows/*.json
              tributary flow show <run-id>
              tributary worker --queue emails --concurrency 4
              tributary stats --json
              tributary job show 42 --queue emails
              tributary queue pause emails
              tributary schedule add nightly --flow flows/nightly.json

            Exit codes: 0 ok, 1 operation failed, 2 invalid input or usage, 3 Redis unreachable or unusable, \
            4 not found, 5 `run --work` stopped by SIGINT/SIGTERM.
            """,
        version: BuildInfo.versionDescription,
        subcommands: [
            ValidateCommand.self, RunCommand.self, FlowCommand.self, WorkerCommand.self, StatsCommand.self,
            JobCommand.self, QueueCommand.self, ScheduleCommand.self, ServerCommand.self, DoctorCommand.self,
            DashboardCommand.self,
        ]
    )

    /// Parses and runs a command; maps errors to the exit statuses of ``ExitStatus`` (ArgumentParser's usage errors
    /// exit 2 instead of its default 64).
    static func main() async {
        ProcessListing.hidePasswords()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let failure = CLIError.classify(error) {
                FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8))
                Foundation.exit(failure.status.rawValue)
            }
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.invalidInput.rawValue)
            }
            exit(withError: error)
        }
    }
}
