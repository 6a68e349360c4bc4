import ArgumentParser
import Tributary

/// The CLI's exit statuses (documented in docs/cli.md).
enum ExitStatus: Int32 {
    /// Success.
    case ok = 0
    /// The operation or the run failed (a job action refused, a flow run failed, a Redis error reply).
    case failed = 1
    /// Invalid input or usage: unknown options, bad values, an invalid file.
    case invalidInput = 2
    /// Redis cannot be reached or used (connection refused, authentication, the embedded server cannot start).
    case redisUnavailable = 3
    /// The job, queue or run named does not exist.
    case notFound = 4
    /// `run --work` was stopped by SIGINT or SIGTERM before its run ended (its workers stopped gracefully).
    case interrupted = 5
}

/// An error the CLI reports as one message on stderr, exiting with its status.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String

    init(_ description: String, status: ExitStatus = .failed) {
        self.description = description
        self.status = status
    }

    /// The status and message for an error thrown by a command, or `nil` for ArgumentParser's own errors
    /// (usage errors, help requests), which it reports itself.
    static func classify(_ error: any Error) -> CLIError? {
        switch error {
        case let error as CLIError:
            return error
        case let error as QueueError:
            let status: ExitStatus
            switch error.code {
            case .jobNotFound, .runNotFound: status = .notFound
            case .invalidOption, .invalidQueueName, .invalidData, .limitExceeded: status = .invalidInput
            default: status = .failed
            }
            return CLIError(error.message, status: status)
        case let error as RedisClientError:
            if error.code == .invalidURL { return CLIError(error.message, status: .invalidInput) }
            let unavailable: [RedisClientError.Code] = [
                .connectFailed, .authenticationFailed, .tlsConfiguration, .disconnected, .connectionClosed,
                .unsupportedServer, .clientClosed, .timedOut,
            ]
            return CLIError(error.description, status: unavailable.contains(error.code) ? .redisUnavailable : .failed)
        case let error as RedisServerError:
            let unavailable = ["NOAUTH", "WRONGPASS", "NOPERM", "LOADING", "MASTERDOWN"].contains(error.code)
            if error.code == "NOPERM" {
                return CLIError("Redis refused a command: the user lacks the permission (\(error.message)); see "
                    + "\"Least-privilege Redis users\" in docs/production.md for the rights each role needs", status: .redisUnavailable)
            }
            return CLIError("Redis replied: \(error.message)", status: unavailable ? .redisUnavailable : .failed)
        case let error as JSONParseError:
            return CLIError("\(error)", status: .invalidInput)
        case let error as FieldCipherError:
            // Keys or paths to fix before anything is stored (exit 2); a field that does not decrypt is a failure.
            let input: [FieldCipherError.Code] = [.invalidKey, .unreadableKeyFile, .noKeys, .invalidPath, .missingField]
            return CLIError(error.message, status: input.contains(error.code) ? .invalidInput : .failed)
        default:
            return nil
        }
    }
}
