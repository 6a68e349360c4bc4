/// Strict checking of job options in flow files.
///
/// `JobOptions(stored:)` reads options as a worker must read a foreign producer's: leniently, skipping what it does
/// not understand. A file deserves better, so every member is checked here first (type, range, known key) and
/// each mistake is reported with its JSON path. Only members that pass are handed on.
struct FlowOptionsReader {
    /// Where an options object sits, which decides the keys it may have.
    enum Context {
        /// The native format's top-level `defaults`.
        case defaults
        /// A node's `opts` in the native format.
        case nativeNode
        /// A node's `opts` in BullMQ's nested shape (the failure options allowed).
        case bullMQNode

        var allowedKeys: [String] {
            switch self {
            case .defaults: return FlowFileKeys.defaultOptions
            case .nativeNode: return FlowFileKeys.nativeNodeOptions
            case .bullMQNode: return FlowFileKeys.bullMQOptions
            }
        }
    }

    /// The checked members of one options object.
    struct Checked {
        /// Members that passed, normalized for `JobOptions(stored:)`.
        var members: JSONObject = [:]
        /// The policy asked for by the BullMQ failure options and flags set to `true`, when they all ask for the
        /// same one.
        var failurePolicy: FailurePolicy?
        /// The option or flag that asked for ``failurePolicy`` (the first one set), for messages.
        var failureKey: String?
    }

    /// The policy a BullMQ failure option (`failParentOnFailure`) or short flag (`fpof`) stands for.
    static func failurePolicy(for key: String) -> FailurePolicy? {
        FailurePolicy.fileValues.first { $0.bullMQOption == key || $0.bullMQFlag == key }
    }

    /// Merges default and node options (the node winning key by key) into `JobOptions`, reporting at `path` if
    /// `JobOptions.validate()` still objects (the strict checks should already have caught everything).
    static func merged(defaults: JSONObject, node: JSONObject, at path: FlowPath, id: String,
                        problems: inout FlowProblems) -> JobOptions {
        var merged = defaults
        for (key, value) in node { merged[key] = value }
        let options = JobOptions(stored: .object(merged))
        do {
            try options.validate()
        } catch {
            problems.add(.invalidOption, at: path, node: id, "\(error)")
        }
        return options
    }

    private var problems: FlowProblems
    private let node: String?

    /// ``JobOptions/maximumDelay`` in milliseconds, the bound of `delay` and of backoff delays.
    private static let maximumDelay = JobOptions.maximumDelay.milliseconds

    private init(problems: FlowProblems, node: String?) {
        self.problems = problems
        self.node = node
    }

    /// Checks the options object `value` found at `path`, recording every problem.
    static func check(_ value: JSONValue, at path: FlowPath, node: String?, context: Context,
                      problems: inout FlowProblems) -> Checked {
        var reader = FlowOptionsReader(problems: problems, node: node)
        let checked = reader.check(value, at: path, context: context)
        problems = reader.problems
        return checked
    }

    private mutating func check(_ value: JSONValue, at path: FlowPath, context: Context) -> Checked {
        var checked = Checked()
        guard let object = value.objectValue else {
            add(.wrongType, path, "must be an object of job options, got \(value.kindForMessage)")
            return checked
        }
        var failureFlags: [String] = []
        for (key, member) in object {
            let memberPath = path.key(key)
            let isShortFlag = FlowFileKeys.failureFlags.contains(key)
            if FlowFileKeys.failureOptions.contains(key) || isShortFlag {
                if context == .bullMQNode || (isShortFlag && context == .nativeNode) {
                    guard let flag = member.boolValue else {
                        invalid(memberPath, "must be true or false, got \(member.quotedForMessage)")
                        continue
                    }
                    if flag { failureFlags.append(key) }
                } else {
                    let policy = Self.failurePolicy(for: key) ?? .fail
                    let whose = context == .defaults ? "each node's" : "the node's"
                    add(.unsupportedOption, memberPath, "BullMQ's '\(key)' is not allowed in the opts of a flow file; "
                        + "use \(whose) \"onFailure\": \"\(policy.rawValue)\" instead")
                }
            } else if FlowFileKeys.nodeOnlyOptions.contains(key), context == .defaults {
                invalid(memberPath, "\(key) cannot be a default: every node needs its own; set it in the node's opts")
            } else if FlowFileKeys.options.contains(key) {
                if let normalized = checkOption(key, member, at: memberPath) {
                    // JobOptions(stored:) reads the deduplication option under BullMQ's stored name, `de`.
                    checked.members[key == "deduplication" ? "de" : key] = normalized
                }
            } else if FlowFileKeys.unsupportedBullMQOptions.contains(key) {
                add(.unsupportedOption, memberPath, "'\(key)' is a BullMQ job option that Tributary flow files do not support")
            } else {
                add(.unknownKey, path, "unknown option '\(key)'" + NearestName.hint(for: key, among: context.allowedKeys))
            }
        }
        // A long option and its short flag may both be set; two different policies may not.
        let policies = Set(failureFlags.compactMap(Self.failurePolicy(for:)))
        if policies.count > 1 {
            add(.conflictingOptions, path,
                "\(failureFlags.map { "'\($0)'" }.joined(separator: " and ")) exclude each other; set only one")
        } else if let flag = failureFlags.first {
            checked.failurePolicy = Self.failurePolicy(for: flag)
            checked.failureKey = flag
        }
        return checked
    }

    /// Checks one option `JobOptions` knows; returns its normalized value, or `nil` when it is invalid (reported).
    private mutating func checkOption(_ key: String, _ value: JSONValue, at path: FlowPath) -> JSONValue? {
        switch key {
        case "jobId":
            guard let id = value.stringValue else {
                invalid(path, "must be a string, got \(value.kindForMessage)")
                return nil
            }
            if id.isEmpty {
                invalid(path, "must not be empty")
            } else if id.contains(":") {
                invalid(path, "must not contain ':', got '\(id)'")
            } else if id.wholeMatch(of: /[+-]?[0-9]+/) != nil {
                invalid(path, "must not be an integer, got '\(id)': integer ids belong to the queue's counter")
            } else if QueueKeys.isReservedJobId(id) {
                invalid(path, "'\(id)' \(QueueKeys.reservedJobIdRule)")
            } else {
                return value
            }
            return nil
        case "delay":
            return integer(value, at: path, "must be an integer number of milliseconds 0...\(Self.maximumDelay) (ten years)",
                           minimum: 0, maximum: Self.maximumDelay)
        case "timestamp": return integer(value, at: path, "must be an integer number of milliseconds since 1970 >= 0", minimum: 0)
        case "timeout": return integer(value, at: path, "must be an integer number of milliseconds > 0", minimum: 1)
        case "attempts": return integer(value, at: path, "must be an integer >= 0 (0 and 1 both mean one attempt)", minimum: 0)
        case "priority":
            return integer(value, at: path, "must be an integer 0...\(JobOptions.maximumPriority)", minimum: 0,
                           maximum: Int64(JobOptions.maximumPriority))
        case "lifo":
            if value.boolValue != nil { return value }
            invalid(path, "must be true or false, got \(value.quotedForMessage)")
            return nil
        case "backoff": return checkBackoff(value, at: path)
        case "deduplication": return checkDeduplication(value, at: path)
        default: return checkRetention(value, at: path, name: key)  // removeOnComplete, removeOnFail
        }
    }

    /// `backoff`: a fixed delay in milliseconds, or `{type, delay, jitter}`.
    private mutating func checkBackoff(_ value: JSONValue, at path: FlowPath) -> JSONValue? {
        switch value {
        case .int, .double:
            return integer(value, at: path, "must be a delay in milliseconds 0...\(Self.maximumDelay) or an object {type, delay, jitter}",
                           minimum: 0, maximum: Self.maximumDelay)
        case .object(let object):
            let before = problems.list.count
            unknownKeys(of: object, allowed: FlowFileKeys.backoff, at: path, in: "backoff")
            if let type = object["type"] {
                if type.stringValue?.isEmpty ?? true {
                    invalid(path.key("type"), "must be 'fixed', 'exponential' or the name of a custom strategy, got \(type.quotedForMessage)")
                }
            } else {
                invalid(path, "missing 'type': 'fixed', 'exponential' or the name of a custom strategy")
            }
            if let delay = object["delay"] {
                _ = integer(delay, at: path.key("delay"), "must be an integer number of milliseconds 0...\(Self.maximumDelay) (ten years)",
                            minimum: 0, maximum: Self.maximumDelay)
            }
            if let jitter = object["jitter"], !(jitter.doubleValue.map { (0...1).contains($0) } ?? false) {
                invalid(path.key("jitter"), "must be a number 0...1, got \(jitter.quotedForMessage)")
            }
            return problems.list.count == before ? value : nil
        default:
            invalid(path, "must be a delay in milliseconds or an object {type, delay, jitter}, got \(value.kindForMessage)")
            return nil
        }
    }

    /// `deduplication`: `{"id": non-empty string, "ttl"?: milliseconds >= 1}`. A node whose id another job holds
    /// takes that job's outcome instead of running (docs/flow-file-format.md, "Deduplicated nodes").
    private mutating func checkDeduplication(_ value: JSONValue, at path: FlowPath) -> JSONValue? {
        guard let object = value.objectValue else {
            invalid(path, "must be an object {\"id\": \"...\", \"ttl\": milliseconds}, got \(value.kindForMessage)")
            return nil
        }
        let before = problems.list.count
        for key in object.keys where !FlowFileKeys.deduplication.contains(key) {
            if ["extend", "replace", "keepLastIfActive"].contains(key) {
                add(.unsupportedOption, path.key(key), "BullMQ's deduplication '\(key)' is not for flow nodes: it "
                    + "would drop or move the job the node's dependents wait for; a flow node takes 'id' and 'ttl'")
            } else {
                add(.unknownKey, path, "unknown key '\(key)' in deduplication"
                    + NearestName.hint(for: key, among: FlowFileKeys.deduplication))
            }
        }
        var normalized: JSONObject = [:]
        if let id = object["id"] {
            if let text = id.stringValue, !text.isEmpty {
                normalized["id"] = id
            } else {
                invalid(path.key("id"), "must be a non-empty string, got \(id.quotedForMessage)")
            }
        } else {
            invalid(path, "missing 'id': the deduplication id that nodes and jobs of this queue share")
        }
        if let ttl = object["ttl"] {
            normalized["ttl"] = integer(ttl, at: path.key("ttl"), "must be an integer number of milliseconds >= 1", minimum: 1)
        }
        return problems.list.count == before ? .object(normalized) : nil
    }

    /// `removeOnComplete` / `removeOnFail`: `true`, `false`, a number of jobs to keep, or `{age (seconds), count}`.
    private mutating func checkRetention(_ value: JSONValue, at path: FlowPath, name: String) -> JSONValue? {
        switch value {
        case .bool:
            return value
        case .int, .double:
            return integer(value, at: path, "must be a number of jobs to keep >= 0", minimum: 0)
        case .object(let object):
            let before = problems.list.count
            unknownKeys(of: object, allowed: FlowFileKeys.retention, at: path, in: name)
            if let age = object["age"] {
                _ = integer(age, at: path.key("age"), "must be an integer number of seconds >= 0", minimum: 0)
            }
            if let count = object["count"] {
                _ = integer(count, at: path.key("count"), "must be a number of jobs to keep >= 0", minimum: 0)
            }
            if object["age"] == nil, object["count"] == nil {
                invalid(path, "needs 'age' (seconds), 'count', or both")
            }
            guard problems.list.count == before else { return nil }
            // `{count}` alone keeps the newest `count` jobs, which the stored form writes as a bare count.
            return object["age"] == nil ? object["count"] : value
        default:
            invalid(path, "must be true, false, a number of jobs to keep or an object {age, count}, got \(value.kindForMessage)")
            return nil
        }
    }

    // MARK: - Recording

    private mutating func add(_ code: FlowFileProblem.Code, _ path: FlowPath, _ message: String) {
        problems.add(code, at: path, node: node, message)
    }

    private mutating func invalid(_ path: FlowPath, _ message: String) {
        add(.invalidOption, path, message)
    }

    /// Checks an integer within bounds; returns it, or `nil` after reporting `rule`.
    private mutating func integer(_ value: JSONValue, at path: FlowPath, _ rule: String, minimum: Int64,
                                  maximum: Int64 = .max) -> JSONValue? {
        if let number = value.intValue, number >= minimum, number <= maximum {
            return .int(number)
        }
        invalid(path, "\(rule), got \(value.quotedForMessage)")
        return nil
    }

    /// Reports every key of `object` that is not in `allowed`.
    private mutating func unknownKeys(of object: JSONObject, allowed: [String], at path: FlowPath, in what: String) {
        for key in object.keys where !allowed.contains(key) {
            add(.unknownKey, path, "unknown key '\(key)' in \(what)" + NearestName.hint(for: key, among: allowed))
        }
    }
}
