--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"

-- Job schedulers (BullMQ's layout): ZSET <queue>:repeat holds scheduler id -> next slot (ms); HASH
-- <queue>:repeat:<id> holds name, pattern or every, tz, limit, startDate, endDate, offset, opts, data and ic (the
-- iteration count). Each iteration is a job with id "repeat:<id>:<slot ms>" and field rjk = <id>.

-- The next slot of an `every` scheduler. Without a previous slot: the start date if it is still ahead, else the next
-- time aligned to the offset (now when there is none). With one: previous + every, or, when that is already past
-- (iterations were missed), the first aligned slot after now. Returns the slot and the offset it keeps (a scheduler
-- without an offset takes the one its first slot falls on, so later slots stay aligned to it).
local function everyNextSlot(previous, every, now, offset, startDate)
  offset = tonumber(offset) or 0
  local slot
  if not previous then
    if startDate then
      slot = math.max(tonumber(startDate), now)
    elseif offset > 0 then
      slot = math.floor(now / every) * every + offset
      if slot <= now then slot = slot + every end
    else
      slot = now
    end
  else
    slot = previous + every
    if slot < now then
      slot = math.floor(now / every) * every + offset
      if slot <= now then slot = slot + every end
    end
  end
  if offset == 0 then offset = slot - math.floor(slot / every) * every end
  return math.floor(slot), math.floor(offset)
end

-- Stores one iteration job and queues it: delayed until its slot, or ready now. `opts` is the job's options table;
-- jobId and delay are set here. Events: added, then delayed or waiting.
local function addSchedulerJob(k, prefix, schedulerId, jobId, name, data, opts, now, delay)
  opts["jobId"] = jobId
  opts["delay"] = delay
  local priority = tonumber(opts["priority"]) or 0
  local jobKey = prefix .. jobId
  redis.call("INCR", k.id)
  redis.call("HSET", jobKey, "name", name, "data", data, "opts", cjson.encode(opts), "timestamp", now,
    "delay", delay, "priority", priority, "rjk", schedulerId)
  local cap = maxEvents(k.meta)
  redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "added", "jobId", jobId, "name", name)
  if delay > 0 then
    scheduleDelayed(k.delayed, k.marker, jobId, now + delay)
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", jobId, "delay", now + delay)
  else
    local push = opts["lifo"] and "RPUSH" or "LPUSH"
    enqueueReady(k.wait, k.prioritized, k.pc, k.marker, jobId, priority, push, isPausedOrMaxed(k.meta, k.active))
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId)
  end
end
