--[[
  updateJobScheduler: queues a scheduler's next iteration when a worker takes the current one (BullMQ's
  updateJobScheduler, which its workers call on every job with an rjk field). Only the job of the scheduler's
  current slot moves it on, so two workers cannot both advance it, and a removed scheduler stops.

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
    1 job key prefix
    2 scheduler id
    3 now (ms)
    4 next slot (ms) for a pattern (computed by the caller); ignored for every
    5 the id of the job taken ("repeat:<id>:<slot>")
    6 the next iteration's options (JSON object; jobId and delay are set here)

  Returns:
    the next iteration's job id; 0 when the scheduler is gone or the job taken is not its current iteration;
    -1 when the next slot's job exists already (event duplicated)

  Events: added, then delayed or waiting; or duplicated.
]]
--- @include "schedulerIteration"

local k = {repeatKey = KEYS[1], delayed = KEYS[2], wait = KEYS[3], paused = KEYS[4], meta = KEYS[5],
           prioritized = KEYS[6], marker = KEYS[7], id = KEYS[8], events = KEYS[9], pc = KEYS[10], active = KEYS[11]}
local prefix, schedulerId, now, producerId = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[5]
local jobOpts = cjson.decode(ARGV[6])

local previous = tonumber(redis.call("ZSCORE", k.repeatKey, schedulerId))
if not previous then return 0 end
if producerId ~= "repeat:" .. schedulerId .. ":" .. previous then return 0 end

local schedulerKey = k.repeatKey .. ":" .. schedulerId
local settings = redis.call("HMGET", schedulerKey, "name", "data", "every", "startDate", "offset")
local every = tonumber(settings[3])
if not every and type(jobOpts["repeat"]) == "table" then every = tonumber(jobOpts["repeat"]["every"]) end
local slot = tonumber(ARGV[4])
if every then
  local offset = settings[5]
  if not offset and type(jobOpts["repeat"]) == "table" then offset = jobOpts["repeat"]["offset"] end
  slot = everyNextSlot(previous, every, now, offset or 0, settings[4])
end

local jobId = "repeat:" .. schedulerId .. ":" .. slot
if redis.call("EXISTS", prefix .. jobId) == 1 then
  redis.call("XADD", k.events, "MAXLEN", "~", maxEvents(k.meta), "*", "event", "duplicated", "jobId", jobId)
  return -1
end
redis.call("ZADD", k.repeatKey, slot, schedulerId)
redis.call("HINCRBY", schedulerKey, "ic", 1)
addSchedulerJob(k, prefix, schedulerId, jobId, settings[1] or schedulerId, settings[2] or "{}", jobOpts, now,
  math.max(slot - now, 0))
return jobId
