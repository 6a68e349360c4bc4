/// The outcome of a ``HealthCheck``: an overall status and each check that was made. An HTTP layer answers with
/// ``httpStatus`` (200 or 503) and ``json()`` as the body.
///
/// ```json
/// {"status":"unhealthy","kind":"readiness","checks":[{"name":"redis","ok":true,"detail":"PONG in 0.3 ms"},
///  {"name":"maxmemory-policy","ok":false,"detail":"'allkeys-lru'; BullMQ queues need 'noeviction' ..."}]}
/// ```
public struct HealthReport: Codable, Sendable, Hashable {
    /// Whether every check passed.
    public enum Status: String, Codable, Sendable, Hashable {
        /// Every check passed.
        case healthy
        /// At least one check failed.
        case unhealthy
    }

    /// Which question the report answers.
    public enum Kind: String, Codable, Sendable, Hashable {
        /// Is the process able to reach Redis (``HealthCheck/liveness()``)?
        case liveness
        /// Should traffic and jobs be sent here (``HealthCheck/readiness()``)?
        case readiness
    }

    /// `healthy` when every check passed.
    public let status: Status
    /// Liveness or readiness.
    public let kind: Kind
    /// Each check, in the order it was made.
    public let checks: [HealthCheckResult]

    /// Creates a report; the status follows from the checks.
    public init(kind: Kind, checks: [HealthCheckResult]) {
        self.kind = kind
        self.checks = checks
        self.status = checks.allSatisfy(\.ok) ? .healthy : .unhealthy
    }

    /// Whether every check passed.
    public var isHealthy: Bool { status == .healthy }

    /// 200 when healthy, 503 otherwise.
    public var httpStatus: Int { isHealthy ? 200 : 503 }

    /// The report as one line of JSON: `{"status":…,"kind":…,"checks":[{"name":…,"ok":…,"detail":…}…]}`.
    public func json() -> String {
        let checks = self.checks.map { check -> JSONValue in
            ["name": .string(check.name), "ok": .bool(check.ok), "detail": .string(check.detail)]
        }
        let value: JSONValue = ["status": .string(status.rawValue), "kind": .string(kind.rawValue), "checks": .array(checks)]
        return value.serialized()
    }

    /// The check named `name`, if it was made.
    public subscript(name: String) -> HealthCheckResult? { checks.first { $0.name == name } }
}

/// One check of a ``HealthReport``.
public struct HealthCheckResult: Codable, Sendable, Hashable {
    /// What was checked: `redis`, `redis-version`, `maxmemory-policy`, `workers:<queue>`, `failed:<queue>`,
    /// `waiting:<queue>`, `active:<queue>`.
    public let name: String
    /// Whether the check passed.
    public let ok: Bool
    /// What was seen, in words a person can act on.
    public let detail: String

    /// Creates a result.
    public init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}
