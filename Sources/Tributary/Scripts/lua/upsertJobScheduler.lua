--[[
  upsertJobScheduler: creates a job scheduler or replaces its settings (BullMQ's addJobScheduler), and queues its
  next iteration. A pending iteration of the scheduler (delayed, prioritized or waiting, not active) is replaced;
  an `every` scheduler whose interval did not change keeps that iteration's slot.

  KEYS:
    1 repeat
    2 delayed
    3 wait
    4 paused
    5 meta
    6 prioritized
    7 marker
    8 id
    9 events
    10 pc
    11 active

  ARGV:
    1 job key prefix ("bull:queue:")
    2 scheduler id
    3 now (ms)
    4 next slot (ms) for a pattern (computed by the caller), or "" for every
    5 scheduler fields (JSON object: name, and any of pattern, every, tz, limit, startDate, endDate, offset)
    6 template data (JSON text)
    7 template options (JSON text, stored in the scheduler as `opts`)
    8 the iteration job's options (JSON object; jobId and delay are set here)

  Returns:
    {jobId, delay} of the iteration queued
    -10 a pattern's slot is taken by a job that is not the scheduler's pending iteration (BullMQ's
        SchedulerJobIdCollision); nothing is changed
    -11 an every scheduler found 32 slots in a row taken (BullMQ's SchedulerJobSlotsBusy); nothing is changed

  Events: removed (prev = delayed/prioritized/waiting) for a replaced iteration; added, then delayed or waiting.
]]
--- @include "schedulerIteration"
--- @include "deleteJob"

local k = {repeatKey = KEYS[1], delayed = KEYS[2], wait = KEYS[3], paused = KEYS[4], meta = KEYS[5],
           prioritized = KEYS[6], marker = KEYS[7], id = KEYS[8], events = KEYS[9], pc = KEYS[10], active = KEYS[11]}
local prefix, schedulerId, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local fields = cjson.decode(ARGV[5])
local templateData, templateOpts, jobOpts = ARGV[6], ARGV[7], cjson.decode(ARGV[8])
local schedulerKey = k.repeatKey .. ":" .. schedulerId

local previous = tonumber(redis.call("ZSCORE", k.repeatKey, schedulerId))
local every = tonumber(fields["every"])
local slot = tonumber(ARGV[4])
local offset = tonumber(fields["offset"]) or 0
local everyChanged = false
if every then
  local from = previous
  if previous and tonumber(redis.call("HGET", schedulerKey, "every")) ~= every then
    from = nil
    everyChanged = true
  end
  slot, offset = everyNextSlot(from, every, now, offset, fields["startDate"])
end

-- The pending iteration is replaced (not one a worker is running).
local replaced = false
if previous then
  local pendingId = "repeat:" .. schedulerId .. ":" .. previous
  if redis.call("EXISTS", prefix .. pendingId) == 1 then
    local from = nil
    if redis.call("ZREM", k.delayed, pendingId) == 1 then
      from = "delayed"
    elseif redis.call("ZREM", k.prioritized, pendingId) == 1 then
      from = "prioritized"
    elseif redis.call("LREM", k.wait, 1, pendingId) > 0 or redis.call("LREM", k.paused, 1, pendingId) > 0 then
      from = "waiting"
    end
    if from then
      deleteJob(prefix, pendingId, true)
      redis.call("XADD", k.events, "MAXLEN", "~", maxEvents(k.meta), "*", "event", "removed", "jobId", pendingId,
        "prev", from)
      replaced = true
    end
  end
end
if replaced then
  if every and not everyChanged then slot = previous end
else
  fields["offset"] = offset
end

local jobId = "repeat:" .. schedulerId .. ":" .. slot
if redis.call("EXISTS", prefix .. jobId) == 1 then
  if not every then
    if not replaced then return -10 end
  else
    local scanned = 0
    repeat
      slot = slot + every
      jobId = "repeat:" .. schedulerId .. ":" .. slot
      scanned = scanned + 1
    until redis.call("EXISTS", prefix .. jobId) == 0 or scanned >= 32
    if redis.call("EXISTS", prefix .. jobId) == 1 then return -11 end
  end
end

-- The scheduler's hash is rewritten whole; its iteration count and (unless given) its offset are kept.
local stored = {"name", fields["name"]}
for _, field in ipairs({"tz", "limit", "pattern", "startDate", "endDate", "every"}) do
  if fields[field] ~= nil then
    stored[#stored + 1] = field
    stored[#stored + 1] = fields[field]
  end
end
local keptOffset = fields["offset"]
if keptOffset == nil then keptOffset = redis.call("HGET", schedulerKey, "offset") end
if keptOffset then
  stored[#stored + 1] = "offset"
  stored[#stored + 1] = keptOffset
end
if templateOpts ~= "" and templateOpts ~= "{}" then
  stored[#stored + 1] = "opts"
  stored[#stored + 1] = templateOpts
end
if templateData ~= "" and templateData ~= "{}" then
  stored[#stored + 1] = "data"
  stored[#stored + 1] = templateData
end
stored[#stored + 1] = "ic"
stored[#stored + 1] = redis.call("HGET", schedulerKey, "ic") or 1
redis.call("ZADD", k.repeatKey, slot, schedulerId)
redis.call("DEL", schedulerKey)
redis.call("HSET", schedulerKey, unpack(stored))

local delay = math.max(slot - now, 0)
addSchedulerJob(k, prefix, schedulerId, jobId, fields["name"], templateData, jobOpts, now, delay)
return {jobId, delay}
