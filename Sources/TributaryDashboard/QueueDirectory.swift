import Logging
import Tributary

/// The queues the dashboard shows: the configured ones, or those found under the prefix by a keyspace scan that
/// runs in the background (at start, then every ``refreshInterval``), never per request, so a page costs the same
/// however many keys Redis holds.
actor QueueDirectory {
    /// How often the queue list is read again when no queues were configured.
    static let refreshInterval: Duration = .seconds(30)

    private let client: RedisClient
    private let prefix: String
    private let fixed: [String]
    private let logger: Logger
    private var found: [String]?
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var refresher: Task<Void, Never>?

    init(client: RedisClient, prefix: String, queues: [String], logger: Logger) {
        self.client = client
        self.prefix = prefix
        self.fixed = queues
        self.logger = logger
    }

    /// Starts the background scan (nothing to do with configured queues).
    func start() {
        guard fixed.isEmpty, refresher == nil else { return }
        refresher = Task { [weak self] in
            while !Task.isCancelled {
                await self?.refresh()
                try? await Task.sleep(for: Self.refreshInterval)
            }
        }
    }

    func stop() {
        refresher?.cancel()
        refresher = nil
    }

    /// Reads the queue names now (also after an action that may create or delete a queue).
    func refresh() async {
        guard fixed.isEmpty else { return }
        do {
            found = try await Queue.names(client: client, prefix: prefix)
        } catch {
            logger.warning("dashboard: cannot list the queues", metadata: ["error": "\(error)", "prefix": "\(prefix)"])
            if found == nil { found = [] }
        }
        let ready = waiters
        waiters = []
        for waiter in ready { waiter.resume() }
    }

    /// The queue names, sorted; waits for the first scan.
    func names() async -> [String] {
        if !fixed.isEmpty { return fixed }
        if let found { return found }
        if refresher == nil { await refresh() } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        return found ?? []
    }

    /// Whether the dashboard shows this queue (a queue not found yet is shown when it has keys).
    func allows(_ name: String) -> Bool {
        fixed.isEmpty || fixed.contains(name)
    }
}
