extension JobOptions {
    /// The `opts` field as BullMQ stores it: `attempts` and `delay` always (as Python bullmq does), the other
    /// options only when set, with BullMQ's names and encodings (milliseconds, `{type, delay}` backoff,
    /// `true`/count/`{age, count}` retention, age in seconds).
    var storedJSON: JSONValue {
        var object: JSONObject = ["attempts": .int(Int64(attempts)), "delay": .int(delay.milliseconds)]
        if let jobId { object["jobId"] = .string(jobId) }
        if priority != 0 { object["priority"] = .int(Int64(priority)) }
        if lifo { object["lifo"] = true }
        if let backoff { object["backoff"] = backoff.storedJSON }
        if let value = removeOnComplete.storedJSON { object["removeOnComplete"] = value }
        if let value = removeOnFail.storedJSON { object["removeOnFail"] = value }
        if let timestamp { object["timestamp"] = .int(timestamp) }
        if let timeout { object["timeout"] = .int(timeout.milliseconds) }
        if let flag = onFailure.bullMQFlag { object[flag] = true }
        if let deduplication { object["de"] = deduplication.storedJSON }
        return .object(object)
    }

    /// Reads options back from a stored `opts` field (BullMQ's or Python's encoding). Unknown keys are ignored;
    /// so are values of the wrong type, which a foreign producer may have written.
    init(stored json: JSONValue) {
        self.init()
        jobId = json["jobId"]?.stringValue
        delay = .milliseconds(json["delay"]?.intValue ?? 0)
        priority = Int(json["priority"]?.intValue ?? 0)
        lifo = json["lifo"]?.boolValue ?? false
        attempts = Int(json["attempts"]?.intValue ?? 0)
        backoff = json["backoff"].flatMap(Backoff.init(stored:))
        removeOnComplete = json["removeOnComplete"].map(Retention.init(stored:)) ?? .keepAll
        removeOnFail = json["removeOnFail"].map(Retention.init(stored:)) ?? .keepAll
        timestamp = json["timestamp"]?.intValue
        timeout = json["timeout"]?.intValue.map { .milliseconds($0) }
        onFailure = FailurePolicy(flaggedIn: json)
        deduplication = json["de"].flatMap(Deduplication.init(stored:))
    }
}

extension JobOptions.Backoff {
    var storedJSON: JSONValue {
        switch self {
        case .fixed(let delay, let jitter):
            var object: JSONObject = ["type": "fixed", "delay": .int(delay.milliseconds)]
            if jitter > 0 { object["jitter"] = .double(jitter) }
            return .object(object)
        case .exponential(let delay, let jitter):
            var object: JSONObject = ["type": "exponential", "delay": .int(delay.milliseconds)]
            if jitter > 0 { object["jitter"] = .double(jitter) }
            return .object(object)
        case .custom(let type, let delay):
            return ["type": .string(type), "delay": .int(delay.milliseconds)]
        }
    }

    /// A stored backoff: a number (fixed delay in ms, BullMQ's shorthand) or `{type, delay, jitter}`.
    init?(stored json: JSONValue) {
        if let number = json.intValue {
            self = .fixed(delay: .milliseconds(number))
            return
        }
        guard let type = json["type"]?.stringValue else { return nil }
        let delay = Duration.milliseconds(json["delay"]?.intValue ?? 0)
        let jitter = json["jitter"]?.doubleValue ?? 0
        switch type {
        case "fixed": self = .fixed(delay: delay, jitter: jitter)
        case "exponential": self = .exponential(delay: delay, jitter: jitter)
        default: self = .custom(type: type, delay: delay)
        }
    }
}

extension JobOptions.Retention {
    var storedJSON: JSONValue? {
        switch self {
        case .keepAll: return nil
        case .removeAll: return true
        case .keepLast(let count): return .int(Int64(count))
        case .keepFor(let age, let count):
            var object: JSONObject = ["age": .int(age.milliseconds / 1000)]
            if let count { object["count"] = .int(Int64(count)) }
            return .object(object)
        }
    }

    /// Reads a stored retention as BullMQ's `moveToFinished` does: `true` removes, `false` keeps all, a number or
    /// `{count}` keeps the newest `count` (0 removes, a negative count keeps all), `{age, count}` adds an age limit.
    init(stored json: JSONValue) {
        func kept(_ count: Int64) -> Self {
            count == 0 ? .removeAll : count < 0 ? .keepAll : .keepLast(Int(clamping: count))
        }
        if let flag = json.boolValue {
            self = flag ? .removeAll : .keepAll
        } else if let count = json.intValue {
            self = kept(count)
        } else if let age = json["age"]?.intValue {
            let count = json["count"]?.intValue.flatMap { $0 < 0 ? nil : Int(clamping: $0) }
            self = .keepFor(age: .seconds(age), count: count)
        } else if let count = json["count"]?.intValue {
            self = kept(count)
        } else {
            self = .keepAll
        }
    }
}

extension JobOptions {
    /// What is wrong with the known options of a stored `opts` object, one line each, named by path as flow files
    /// name them (`opts.attempts must be an integer, got 'three'`); empty when nothing is. `JobOptions(stored:)`
    /// skips such values, so a worker fails the job with these lines instead of running it with options it
    /// did not ask for. Keys Tributary does not know are not problems: other producers store their own.
    static func problems(inStored json: JSONValue) -> [String] {
        guard let object = json.objectValue else { return ["opts must be a JSON object, got \(json.kindForMessage)"] }
        var problems: [String] = []
        func expect(_ path: String, _ value: JSONValue?, _ rule: String, _ isValid: (JSONValue) -> Bool) {
            if let value, !isValid(value) { problems.append("\(path) must be \(rule), got \(value.quotedForMessage)") }
        }
        let isInteger: (JSONValue) -> Bool = { $0.intValue != nil }
        let isBool: (JSONValue) -> Bool = { $0.boolValue != nil }
        expect("opts.jobId", object["jobId"], "a string") { $0.stringValue != nil }
        for key in ["attempts", "delay", "priority", "timestamp", "timeout"] {
            expect("opts.\(key)", object[key], "an integer", isInteger)
        }
        for key in ["lifo"] + FailurePolicy.allCases.compactMap(\.bullMQFlag) {
            expect("opts.\(key)", object[key], "true or false", isBool)
        }
        if let backoff = object["backoff"] {
            if let fields = backoff.objectValue {
                expect("opts.backoff.type", fields["type"] ?? .null, "a string") { $0.stringValue != nil }
                expect("opts.backoff.delay", fields["delay"], "an integer number of milliseconds", isInteger)
                expect("opts.backoff.jitter", fields["jitter"], "a number 0...1") { $0.doubleValue.map { (0...1).contains($0) } ?? false }
            } else {
                expect("opts.backoff", backoff, "a delay in milliseconds or an object {type, delay, jitter}", isInteger)
            }
        }
        for key in ["removeOnComplete", "removeOnFail"] {
            guard let retention = object[key] else { continue }
            if let fields = retention.objectValue {
                expect("opts.\(key).age", fields["age"], "an integer number of seconds", isInteger)
                expect("opts.\(key).count", fields["count"], "an integer number of jobs", isInteger)
            } else {
                expect("opts.\(key)", retention, "true, false, a number of jobs or an object {age, count}") {
                    $0.boolValue != nil || $0.intValue != nil
                }
            }
        }
        return problems
    }
}
