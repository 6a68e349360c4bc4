--[[
  moveToActive: a worker takes the next job (wait list first, then prioritized), after promoting due delayed jobs.

  KEYS:
    1 wait
    2 active
    3 prioritized
    4 delayed
    5 pc
    6 meta
    7 events
    8 marker
    9 limiter

  ARGV:
    1 job key prefix
    2 now (ms), or "" for Redis's own clock (a fetch queued behind a worker's blocked BZPOPMIN runs later
      than it was sent)
    3 lock token ("0" for no lock)
    4 lock duration (ms)
    5 rate limit: max jobs per duration (0 = no limit)
    6 rate limit duration (ms)
    7 worker name, or ""

  Returns:
    {fields, jobId, rateLimitTtl, nextDelayedAt[, inputs]}; fields and jobId are 0 when no job was taken; inputs
    (a flow-run node that needs other nodes): its :processed and :failed hashes and what the run recorded of the
    nodes it needs (see flowInputReads)

  Events: waiting (prev=delayed) for promoted jobs; active (prev=waiting) for the job taken.
]]
--- @include "takeNextJob"

local k = {wait = KEYS[1], active = KEYS[2], prioritized = KEYS[3], delayed = KEYS[4], pc = KEYS[5],
           meta = KEYS[6], events = KEYS[7], marker = KEYS[8], limiter = KEYS[9]}
local nowText = ARGV[2]
if nowText == "" then
  local time = redis.call("TIME")
  nowText = string.format("%d", tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
end
return takeNextJob(k, ARGV[1], nowText, ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])
