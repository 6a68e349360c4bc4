--- @include "isPausedOrMaxed"
--- @include "markReady"
--- @include "promoteDueJobs"
--- @include "jobCounter"
--- @include "effectiveRateLimit"
--- @include "queueMeta"
--- @include "flowInputReads"

-- Takes the next job for a worker: promotes due delayed jobs, honours pause, global concurrency and the rate
-- limit (the worker's or the queue's global one, see effectiveRateLimit), then pops the wait list (first) or the
-- prioritized set, locks the job and marks it active.
-- Returns {fields, jobId, rateLimitTtl, nextDelayedAt[, inputs]}: fields and jobId are 0 when no job was taken;
-- rateLimitTtl > 0 means the rate limit is reached; nextDelayedAt is the earliest delayed job's due time (ms);
-- inputs, for a flow-run node that needs other nodes, is what flowInputReads read for it.
-- `nowText` and `lockDuration` are the callers' ARGV strings, written as they are: a Lua number given to
-- redis.call is formatted with "%.17g", which costs more than the command it is passed to. `meta` is what
-- queueMeta read, or nil to read it here.
local function takeNextJob(k, prefix, nowText, token, lockDuration, limitMax, limitDuration, workerName, meta)
  local now = tonumber(nowText)
  meta = meta or queueMeta(k.meta)
  limitMax, limitDuration = effectiveRateLimit(meta, limitMax, limitDuration)
  -- Promoting due jobs moves them to wait or prioritized only, so pause and concurrency read the same after it.
  local blocked = isPausedOrMaxedBy(meta, k.active)
  promoteDueJobs(k.delayed, k.wait, k.prioritized, k.pc, k.marker, k.events, prefix, now, blocked)
  if blocked then
    return {0, 0, 0, 0}
  end
  if limitMax > 0 then
    local used = tonumber(redis.call("GET", k.limiter) or 0)
    if used >= limitMax then
      local ttl = redis.call("PTTL", k.limiter)
      if ttl > 0 then
        return {0, 0, ttl, 0}
      end
      -- A counter without expiry would limit the queue forever: start a new window.
      redis.call("DEL", k.limiter)
    end
  end

  -- Take the next id whose job still exists (a hash deleted behind the queue's back, or a key of another type
  -- under its name, is skipped).
  local jobId
  repeat
    jobId = redis.call("RPOPLPUSH", k.wait, k.active)
    if not jobId then
      local popped = redis.call("ZPOPMIN", k.prioritized)
      if popped[1] then
        jobId = popped[1]
        redis.call("LPUSH", k.active, jobId)
      end
    end
    if jobId and redis.call("TYPE", prefix .. jobId)["ok"] ~= "hash" then
      redis.call("LREM", k.active, 1, jobId)
      jobId = nil
    else
      break
    end
  until false
  if not jobId then
    local first = redis.call("ZRANGE", k.delayed, 0, 0, "WITHSCORES")
    local nextAt = 0
    if first[2] then nextAt = math.floor(tonumber(first[2]) / 0x1000) end
    return {0, 0, 0, nextAt}
  end

  local jobKey = prefix .. jobId
  if limitMax > 0 and redis.call("HEXISTS", jobKey, "defa") == 0 then
    if redis.call("INCR", k.limiter) == 1 then
      redis.call("PEXPIRE", k.limiter, string.format("%d", limitDuration))
    end
  end
  redis.call("SET", jobKey .. ":lock", token, "PX", lockDuration)
  redis.call("XADD", k.events, "*", "event", "active", "jobId", jobId, "prev", "waiting")
  if workerName ~= "" then
    redis.call("HSET", jobKey, "processedOn", nowText, "pb", workerName)
  else
    redis.call("HSET", jobKey, "processedOn", nowText)
  end
  local _, startsProblem = incrementJobCounter(jobKey, "ats")
  if startsProblem then
    -- The worker fails the job at once with this reason (BullMQ's deferred failure), instead of running it.
    redis.call("HSET", jobKey, "defa", startsProblem)
  end
  -- More jobs ready: wake another blocked worker.
  if redis.call("LLEN", k.wait) > 0 or redis.call("ZCARD", k.prioritized) > 0 then
    markReady(k.marker, false)
  end
  local fields = redis.call("HGETALL", jobKey)
  -- Only flow-run nodes have inputs, and their ids are "<run>.<node>" unless the flow file chose one (the worker
  -- then reads the inputs itself). Looking for a dot costs a plain job about 500 instructions; looking through its
  -- fields would cost 3,000.
  if string.find(jobId, ".", 1, true) then
    local inputs = flowInputReads(jobKey, fields)
    if inputs then
      return {fields, jobId, 0, 0, inputs}
    end
  end
  return {fields, jobId, 0, 0}
end
