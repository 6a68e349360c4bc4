--- @include "deleteJob"

-- Deduplication ids, laid out as BullMQ lays them out: STRING <prefix>:<queue>:de:<id> holds the id of the job
-- that owns the deduplication id; with a ttl it expires after ttl ms, without one it lives until that job
-- finishes (completes or fails for good) or is removed.

-- Points the key at jobId, for ttl ms when a ttl is given.
local function claimDeduplication(key, jobId, ttl)
  if ttl and ttl > 0 then
    redis.call("SET", key, jobId, "PX", ttl)
  else
    redis.call("SET", key, jobId)
  end
end

-- A key without expiry whose job is gone (deleted behind the queue's back, or lost with an outage) would block its
-- id forever: it is handed to jobId instead. Returns whether it was.
local function reclaimStaleDeduplication(key, prefix, holder, jobId, ttl)
  if holder and redis.call("PTTL", key) == -1 and redis.call("EXISTS", prefix .. holder) == 0 then
    claimDeduplication(key, jobId, ttl)
    return true
  end
  return false
end

-- Decides whether the job about to be stored as jobId is a duplicate. `options` is the decoded deduplication
-- option {id, ttl?, extend?, replace?}. Returns nil when the job is to be stored (it now owns the id), or the id of
-- the job that owns it (nothing is to be stored). Events: deduplicated (jobId = the owner, deduplicationId,
-- deduplicatedJobId = the job not stored); with `replace`, removed (prev=delayed) for a replaced delayed owner and
-- deduplicated with jobId = the new owner and deduplicatedJobId = the replaced one.
local function deduplicate(prefix, delayedKey, eventsKey, cap, options, jobId)
  local id = options["id"]
  local key = prefix .. "de:" .. id
  local ttl = tonumber(options["ttl"])
  if ttl and ttl <= 0 then ttl = nil end
  local function report(owner, skipped)
    redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "deduplicated", "jobId", owner,
      "deduplicationId", id, "deduplicatedJobId", skipped)
  end

  if options["replace"] then
    local holder = redis.call("GET", key)
    if not holder then
      claimDeduplication(key, jobId, ttl)
      return nil
    end
    -- Only an owner still waiting in the delayed set is replaced.
    if redis.call("ZREM", delayedKey, holder) == 1 then
      local left = redis.call("PTTL", key)
      deleteJob(prefix, holder, false)
      redis.call("XADD", eventsKey, "*", "event", "removed", "jobId", holder, "prev", "delayed")
      report(jobId, holder)
      if ttl and not options["extend"] and left > 0 then
        redis.call("SET", key, jobId, "PX", left)  -- the window goes on; it is not restarted
      else
        claimDeduplication(key, jobId, ttl)
      end
      return nil
    end
    if reclaimStaleDeduplication(key, prefix, holder, jobId, ttl) then return nil end
    report(holder, jobId)
    return holder
  end

  if ttl and options["extend"] then
    local holder = redis.call("GET", key)
    if not holder then
      claimDeduplication(key, jobId, ttl)
      return nil
    end
    if reclaimStaleDeduplication(key, prefix, holder, jobId, ttl) then return nil end
    claimDeduplication(key, holder, ttl)  -- the owner keeps the id for another ttl
    report(holder, jobId)
    return holder
  end

  local claimed
  if ttl then
    claimed = redis.call("SET", key, jobId, "PX", ttl, "NX")
  else
    claimed = redis.call("SET", key, jobId, "NX")
  end
  if claimed then return nil end
  local holder = redis.call("GET", key)
  if reclaimStaleDeduplication(key, prefix, holder, jobId, ttl) then return nil end
  report(holder, jobId)
  return holder
end
