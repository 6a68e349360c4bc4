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
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var reply: RedisRequest.Reply
    }

    private let reader = HiredisReader()
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    /// The replies received so far for the batch at the head of `pending`. Kept here rather than inside the
    /// buffer's element: appending to an array stored in the buffer copied it on every reply (quadratic for a
    /// 20,000-command MULTI).
    private var headReplies: [RESPValue] = []
    private var flushScheduled = false
    /// Set once the channel failed or closed; later requests fail with it at once.
    private var terminalError: RedisClientError?

    init() {}

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
        pending.append(Pending(reply: request.reply))
        context.write(wrapOutboundOut(request.payload), promise: nil)
        scheduleFlush(context: context)
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
            promise.succeed(value)
        case .batch(let count, let promise):
            if headReplies.isEmpty { headReplies.reserveCapacity(count) }
            headReplies.append(value)
            if headReplies.count == count {
                pending.removeFirst()
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

    private func failAll(_ error: RedisClientError) {
        if terminalError == nil { terminalError = error }
        headReplies = []
        while let head = pending.popFirst() {
            switch head.reply {
            case .single(let promise): promise.fail(error)
            case .batch(_, let promise): promise.fail(error)
            }
        }
    }
}
