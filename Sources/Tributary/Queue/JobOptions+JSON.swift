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

    init(stored json: JSONValue) {
        if let flag = json.boolValue {
            self = flag ? .removeAll : .keepAll
        } else if let count = json.intValue {
            self = .keepLast(Int(count))
        } else if let age = json["age"]?.intValue {
            self = .keepFor(age: .seconds(age), count: json["count"]?.intValue.map { Int($0) })
        } else {
            self = .keepAll
        }
    }
}
