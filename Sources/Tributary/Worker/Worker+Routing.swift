extension Worker {
    /// Runs `handler` for jobs named `name` (see ``JobRouter``), replacing any handler registered for that name.
    ///
    /// ```swift
    /// let worker = try Worker(queue: "media", client: client)
    /// worker.handle("extract") { job in try await extract(job.data) }
    /// worker.handle("resize") { job in try await resize(job.data) }
    /// ```
    public func handle(_ name: String, _ handler: @escaping Handler) {
        router.handle(name, handler)
    }

    /// Runs `handler` for jobs named `name` with their data decoded as `Payload`; what it returns is encoded as the
    /// job's result. Data that does not decode fails the job at once.
    public func handle<Payload: Decodable & Sendable, Output: Encodable & Sendable>(
        _ name: String, as payload: Payload.Type, _ handler: @escaping @Sendable (Payload, Job) async throws -> Output
    ) {
        router.handle(name, as: payload, handler)
    }
}
