--[[
  removeJob: deletes one job, whatever its state, unless a worker holds its lock: its id leaves the list or set it
  is in, and its hash, logs and child bookkeeping are deleted. A child that was its parent's last pending
  dependency releases the parent to wait. Children of the removed job are left alone.

  KEYS:
    1 wait
    2 paused
    3 active
    4 prioritized
    5 delayed
    6 completed
    7 failed
    8 waiting-children
    9 stalled
    10 meta
    11 events

  ARGV:
    1 job key prefix
    2 job id

  Returns:
    1 the job was removed; 0 there was no such job (a stray id is still cleared); -2 a worker holds its lock

  Events: removed (prev = the state it was in: completed, failed, delayed, prioritized, waiting-children,
  wait, paused, active or unknown).
]]
--- @include "deleteJob"
--- @include "maxEvents"

local waitKey, pausedKey, activeKey, prioritizedKey, delayedKey, completedKey, failedKey, waitingChildrenKey,
  stalledKey, metaKey, eventsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local prefix, jobId = ARGV[1], ARGV[2]

if redis.call("EXISTS", prefix .. jobId .. ":lock") == 1 then return -2 end

-- Sets first (O(log n)), then the lists.
local prev = "unknown"
local sets = {{completedKey, "completed"}, {failedKey, "failed"}, {delayedKey, "delayed"},
              {prioritizedKey, "prioritized"}, {waitingChildrenKey, "waiting-children"}}
for _, set in ipairs(sets) do
  if redis.call("ZREM", set[1], jobId) == 1 then
    prev = set[2]
    break
  end
end
if prev == "unknown" then
  for _, list in ipairs({{waitKey, "wait"}, {pausedKey, "paused"}, {activeKey, "active"}}) do
    if redis.call("LREM", list[1], 0, jobId) > 0 then
      prev = list[2]
      break
    end
  end
end
redis.call("SREM", stalledKey, jobId)

if not deleteJob(prefix, jobId, false) then return 0 end
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "removed", "jobId", jobId,
  "prev", prev)
return 1
