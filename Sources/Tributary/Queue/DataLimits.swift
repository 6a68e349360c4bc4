/// Upper bounds on what Tributary writes to Redis, so that a mistaken producer or handler cannot fill the server's
/// memory (Redis only refuses a single value over 512 MB; BullMQ has no limits of its own). A value over a limit is
/// refused before anything is written, with ``QueueError/Code-swift.struct/limitExceeded`` and a message giving
/// the size and the limit. `nil` turns a limit off.
///
/// Where each applies:
/// - ``jobDataBytes``: each job's data (serialized JSON, in bytes) in ``Queue/add(_:data:options:)``,
///   ``Queue/addBulk(_:)``, ``FlowProducer/add(_:)`` and ``FlowProducer/submit(_:runId:)``;
/// - ``runDataBytes``: the data of every job of one flow tree or run together;
/// - ``runNodes``: the jobs of one flow tree or run;
/// - ``mapItems``: the items of one map node: literal lists when a run is submitted, lists from a result when the
///   worker expands the map (the map node fails then, without retries);
/// - ``returnValueBytes``: a job's result (serialized JSON), checked by the worker before it stores it; a result
///   over the limit fails the job without retries. The default equals ``CommandStep/Options/maxOutputBytes``, so a
///   command step's stdout that fits the output cap fits here too.
///
/// ```swift
/// let queue = try Queue("uploads", client: client, limits: DataLimits(jobDataBytes: 1 << 20))
/// ```
public struct DataLimits: Sendable, Hashable {
    /// The most bytes of one job's data. Default 16 MiB.
    public var jobDataBytes: Int?
    /// The most bytes of data of all the jobs of one flow tree or run. Default 256 MiB.
    public var runDataBytes: Int?
    /// The most bytes of one job's result. Default 16 MiB, the command-step output cap.
    public var returnValueBytes: Int?
    /// The most jobs in one flow tree or run. Default 1,000,000.
    public var runNodes: Int?
    /// The most items of one map node. Default 100,000.
    public var mapItems: Int?

    /// 16 MiB: the default of ``jobDataBytes``, ``returnValueBytes`` and ``CommandStep/Options/maxOutputBytes``.
    public static let defaultValueBytes = 16 << 20

    /// Creates limits; every default is documented on its property.
    public init(jobDataBytes: Int? = defaultValueBytes, runDataBytes: Int? = 256 << 20,
                returnValueBytes: Int? = defaultValueBytes, runNodes: Int? = 1_000_000, mapItems: Int? = 100_000) {
        self.jobDataBytes = jobDataBytes
        self.runDataBytes = runDataBytes
        self.returnValueBytes = returnValueBytes
        self.runNodes = runNodes
        self.mapItems = mapItems
    }

    /// The defaults.
    public static let `default` = DataLimits()
    /// No limits at all, as in BullMQ.
    public static let none = DataLimits(jobDataBytes: nil, runDataBytes: nil, returnValueBytes: nil, runNodes: nil, mapItems: nil)

    /// Refuses `what` (e.g. "the data of job 'resize'") when its `size` is over `limit`.
    static func check(_ size: Int, against limit: Int?, _ what: @autoclosure () -> String, setting: String,
                      consequence: String = "nothing was stored") throws {
        guard let limit, size > limit else { return }
        throw QueueError(.limitExceeded, "\(what()) is \(Self.count(size)) bytes, over the limit of \(Self.count(limit)) bytes "
            + "(\(setting)); \(consequence)")
    }

    /// Refuses a count of `things` over `limit`.
    static func check(count: Int, against limit: Int?, _ what: @autoclosure () -> String, things: String, setting: String) throws {
        guard let limit, count > limit else { return }
        throw QueueError(.limitExceeded, "\(what()) has \(Self.count(count)) \(things), over the limit of \(Self.count(limit)) "
            + "(\(setting)); nothing was stored")
    }

    /// Checks the data of the jobs of one flow tree or run: each job's, their total and their number.
    /// `jobs` gives each job's description and data size.
    func checkRun(_ what: String, jobs: [(job: String, dataBytes: Int)]) throws {
        try Self.check(count: jobs.count, against: runNodes, what, things: "nodes", setting: "DataLimits.runNodes, --max-nodes")
        var total = 0
        for job in jobs {
            try Self.check(job.dataBytes, against: jobDataBytes, "the data of \(job.job)", setting: "DataLimits.jobDataBytes, --max-job-data")
            total += job.dataBytes
        }
        try Self.check(total, against: runDataBytes, "the data of \(what) (all its nodes together)",
                       setting: "DataLimits.runDataBytes, --max-run-data")
    }

    /// `1234567` as `1,234,567`.
    static func count(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(Substring(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
