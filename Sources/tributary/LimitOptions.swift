import ArgumentParser
import Tributary

/// A size on the command line: bytes, or a number with `KB`, `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB`
/// (powers of 1024); `none` turns the limit off.
struct ByteCountArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    /// The bytes; `nil` for `none`.
    let bytes: Int?
    let text: String

    init(_ bytes: Int?, text: String) {
        self.bytes = bytes
        self.text = text
    }

    init?(argument: String) {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        text = argument
        if trimmed.lowercased() == "none" {
            bytes = nil
            return
        }
        let units: [(String, Double)] = [("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1e3), ("mb", 1e6),
                                         ("gb", 1e9), ("b", 1)]
        var number = Substring(trimmed.lowercased())
        var factor = 1.0
        for (suffix, value) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            factor = value
            break
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value >= 0, value * factor < 1e18 else { return nil }
        bytes = Int((value * factor).rounded())
    }

    var description: String { text }
}

/// A count on the command line, or `none`.
struct CountLimitArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let count: Int?
    let text: String

    init(_ count: Int?, text: String) {
        self.count = count
        self.text = text
    }

    init?(argument: String) {
        text = argument
        if argument.lowercased() == "none" {
            count = nil
            return
        }
        guard let value = Int(argument.replacingOccurrences(of: "_", with: "")), value >= 0 else { return nil }
        count = value
    }

    var description: String { text }
}

/// `--max-job-data`, `--max-run-data`, `--max-nodes`, `--max-map-items`, `--max-result` (``DataLimits``).
struct LimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The most bytes of one job's data (16MiB; 'none' for no limit).", valueName: "size"))
    var maxJobData = ByteCountArgument(DataLimits.default.jobDataBytes, text: "16MiB")

    @Option(help: ArgumentHelp("The most bytes of data of all the nodes of a run together (256MiB; 'none').", valueName: "size"))
    var maxRunData = ByteCountArgument(DataLimits.default.runDataBytes, text: "256MiB")

    @Option(help: ArgumentHelp("The most nodes of a run (1000000; 'none').", valueName: "count"))
    var maxNodes = CountLimitArgument(DataLimits.default.runNodes, text: "1000000")

    @Option(help: ArgumentHelp("The most items of one map node (100000; 'none'); a longer list fails the map node.",
                               valueName: "count"))
    var maxMapItems = CountLimitArgument(DataLimits.default.mapItems, text: "100000")

    @Option(help: ArgumentHelp("With --work: the most bytes of a job's result (16MiB, the command output cap; 'none').",
                               valueName: "size"))
    var maxResult = ByteCountArgument(DataLimits.default.returnValueBytes, text: "16MiB")

    /// The limits these options give.
    var dataLimits: DataLimits {
        DataLimits(jobDataBytes: maxJobData.bytes, runDataBytes: maxRunData.bytes, returnValueBytes: maxResult.bytes,
                   runNodes: maxNodes.count, mapItems: maxMapItems.count)
    }
}
