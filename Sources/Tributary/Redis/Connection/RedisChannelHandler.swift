import NIOCore

/// What a caller writes into a Redis channel: encoded commands and where their replies go.
struct RedisRequest {
    /// Where the reply (or replies) of a request are delivered.
    enum Reply {
        /// One command, one reply.
        case single(EventLoopPromise<RESPValue>)
        /// `count` commands written back to back; their replies are delivered together, in order.
        case batch(count: Int, EventLoopPromise<[RESPValue]>)
    }

    var payload: ByteBuffer
    var reply: Reply
    /// How long the reply may take once written; `nil` waits forever. A reply that does not come in time means the
    /// server or the route to it stopped answering: the connection is closed and every pending command fails.
    var timeout: TimeAmount?

    func fail(_ error: any Error) {
        switch reply {
        case .single(let promise): promise.fail(error)
        case .batch(_, let promise): promise.fail(error)
        }
    }
}

/// The NIO handler of one Redis connection: it encodes nothing itself (requests arrive encoded), keeps a FIFO of
/// pending replies, decodes with ``HiredisReader`` and pairs each reply with the oldest pending request.
///
/// Writes are not flushed one by one: the first write of an event-loop pass schedules a single flush at the end
/// of the pass, so many tasks pipelining over one connection share system calls.
///
/// Timeouts cost one timer per connection, not one per request: the timer is set for the deadline of the oldest
/// pending request (replies come in order, so a later request cannot be answered before it). When it fires and that
/// request is still unanswered, the connection is closed with ``RedisClientError/Code-swift.struct/timedOut``.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var reply: RedisRequest.Reply
        var deadline: NIODeadline?
        var timeout: TimeAmount?
    }

    /// The server, for messages (`127.0.0.1:6379`).
    private let endpoint: String
    private var timeoutCheck: Scheduled<Void>?

    private let reader = HiredisReader()
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    /// The replies received so far for the batch at the head of `pending`. Kept here rather than inside the
    /// buffer's element: appending to an array stored in the buffer copied it on every reply (quadratic for a
    /// 20,000-command MULTI).
    private var headReplies: [RESPValue] = []
    private var flushScheduled = false
    /// Set once the channel failed or closed; later requests fail with it at once.
    private var terminalError: RedisClientError?

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        // The caller's write promise only tells it that this handler took charge of the reply promise.
        promise?.succeed(())
        if let terminalError {
            request.fail(RedisClientError(
                .connectionClosed, "The connection to Redis was already closed; the command was not sent",
                underlying: terminalError, commandWasNotSent: true))
            return
        }
        let deadline = request.timeout.map { NIODeadline.now() + $0 }
        pending.append(Pending(reply: request.reply, deadline: deadline, timeout: request.timeout))
        context.write(wrapOutboundOut(request.payload), promise: nil)
        scheduleFlush(context: context)
        if deadline != nil { armTimeoutCheck(context: context) }
    }

    // MARK: Timeouts

    private func scheduleTimeoutCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.timeoutCheck = nil
            handler.checkTimeout(context: context)
        }
    }

    /// Closes the connection if the oldest pending request is past its deadline; otherwise sets the timer for it.
    private func checkTimeout(context: ChannelHandlerContext) {
        guard terminalError == nil, let head = pending.first, let deadline = head.deadline else { return }
        guard deadline <= .now() else {
            scheduleTimeoutCheck(at: deadline, context: context)
            return
        }
        let waited = head.timeout.map { Duration.nanoseconds($0.nanoseconds) }.map { "\($0)" } ?? "its timeout"
        failAll(RedisClientError(
            .timedOut,
            "Redis at \(endpoint) did not answer within \(waited); the connection was closed (the command may or may not have run)"))
        context.close(promise: nil)
    }

    /// After a reply: with no timer set, set one for the new oldest request.
    private func armTimeoutCheck(context: ChannelHandlerContext) {
        guard timeoutCheck == nil, let deadline = pending.first?.deadline else { return }
        scheduleTimeoutCheck(at: deadline, context: context)
    }

    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushScheduled = false
            context.flush()
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        do {
            try reader.feed(bytes)
            while let value = try reader.nextReply() {
                deliver(value, context: context)
            }
        } catch {
            failAll(RedisClientError(
                .protocolError,
                "The Redis reply could not be parsed (\(error.message)); the connection was closed",
                underlying: error))
            context.close(promise: nil)
        }
    }

    private func deliver(_ value: RESPValue, context: ChannelHandlerContext) {
        guard let head = pending.first else {
            failAll(RedisClientError(.protocolError, "Redis sent a reply nobody asked for: \(value); the connection was closed"))
            context.close(promise: nil)
            return
        }
        switch head.reply {
        case .single(let promise):
            pending.removeFirst()
            armTimeoutCheck(context: context)
            promise.succeed(value)
        case .batch(let count, let promise):
            if headReplies.isEmpty { headReplies.reserveCapacity(count) }
            headReplies.append(value)
            if headReplies.count == count {
                pending.removeFirst()
                armTimeoutCheck(context: context)
                let replies = headReplies
                headReplies = []
                promise.succeed(replies)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisClientError(
            .connectionClosed,
            "The connection to Redis closed while the command was in flight; it may or may not have run"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisClientError(
            .connectionClosed,
            "The connection to Redis failed while the command was in flight; it may or may not have run",
            underlying: error))
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        timeoutCheck = nil
    }

    private func failAll(_ error: RedisClientError) {
        if terminalError == nil { terminalError = error }
        timeoutCheck?.cancel()
        timeoutCheck = nil
        headReplies = []
        while let head = pending.popFirst() {
            switch head.reply {
            case .single(let promise): promise.fail(error)
            case .batch(_, let promise): promise.fail(error)
            }
        }
    }
}
