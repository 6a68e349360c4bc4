/// An error from a queue operation, with a code a program can branch on and a message a person can act on.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A job option is missing, of the wrong type or out of range; nothing was stored.
        public static let invalidOption = Code("invalidOption")
        /// A queue name or prefix cannot be used (it contains ':' or is empty).
        public static let invalidQueueName = Code("invalidQueueName")
        /// The job does not exist (any more).
        public static let jobNotFound = Code("jobNotFound")
        /// The parent job named in the options does not exist.
        public static let parentNotFound = Code("parentNotFound")
        /// A child with a custom job id that exists already belongs to another parent, which still exists
        /// (BullMQ's `ParentJobCannotBeReplaced`, -7); nothing was changed.
        public static let parentCannotBeReplaced = Code("parentCannotBeReplaced")
        /// A job's data could not be encoded or decoded.
        public static let invalidData = Code("invalidData")
        /// The job is not in the state the operation needs (e.g. retrying a job that has not failed).
        public static let jobNotInState = Code("jobNotInState")
        /// A worker holds the job's lock (it is being processed), so it cannot be removed.
        public static let jobLocked = Code("jobLocked")
        /// The queue has active jobs, so it cannot be obliterated without `force`.
        public static let activeJobs = Code("activeJobs")
        /// Keys of the queue were still being written while ``Queue/obliterate(force:)`` deleted them, pass after
        /// pass (a producer still adding jobs).
        public static let keysKeepAppearing = Code("keysKeepAppearing")
        /// The flow run has finished (completed, failed or cancelled already), so it cannot be cancelled; nothing
        /// was changed.
        public static let runFinished = Code("runFinished")
        /// A flow was refused before anything was stored: a node's job id is taken, or a key it needs has the wrong
        /// type. The message names the key.
        public static let flowRejected = Code("flowRejected")
        /// No flow run has this id.
        public static let runNotFound = Code("runNotFound")
        /// A job cannot be retried yet: an input it needs failed and was not retried (it would run without it).
        public static let inputsIncomplete = Code("inputsIncomplete")
        /// A job scheduler's next slot is taken by a job that is not its pending iteration (BullMQ's
        /// `SchedulerJobIdCollision`, -10, and `SchedulerJobSlotsBusy`, -11); nothing was changed.
        public static let schedulerSlotTaken = Code("schedulerSlotTaken")
        /// A job's data, a run's data or number of nodes, a map's number of items or a result is over its
        /// ``DataLimits``; nothing was stored. The message gives the size and the limit.
        public static let limitExceeded = Code("limitExceeded")
        /// A script returned a status Tributary does not know.
        public static let unexpectedScriptResult = Code("unexpectedScriptResult")
        /// On a Redis Cluster: a queue's keys, or a flow's queues, would span hash slots; nothing was stored.
        public static let crossSlot = Code("crossSlot")
    }

    /// What went wrong.
    public let code: Code
    /// A message naming what is wrong and where.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
