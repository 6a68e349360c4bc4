--- @include "deleteJob"

-- Deduplication ids, laid out as BullMQ lays them out: STRING <prefix>:<queue>:de:<id> holds the id of the job
-- that owns the deduplication id; with a ttl it expires after ttl ms, without one it lives until that job
-- finishes (completes or fails for good) or is removed.
--
-- keepLastIfActive: while the owner is running (in the active list), a skipped add is not dropped but kept, as the
-- owner's "next job", in HASH <prefix>:<queue>:dn:<id> (name, data, opts, jid = the id the skipped add would have
-- had, pk/pd/pdk when it has a parent); a later skipped add overwrites it, so at most one waits. When the owner
-- finishes, moveToFinished adds it (see includes/addKeptNextJob.lua). Under this option the key never gets a
-- ttl, so that adds keep meeting the owner while it runs.

-- Points the key at jobId, for ttl ms when a ttl is given.
local function claimDeduplication(key, jobId, ttl)
  if ttl and ttl > 0 then
    redis.call("SET", key, jobId, "PX", ttl)
  else
    redis.call("SET", key, jobId)
  end
end

-- A key without expiry whose job is gone (deleted behind the queue's back, or lost with an outage) would block its
-- id forever: it is handed to jobId instead, and a next job kept for the lost owner is dropped (it would otherwise
-- be added when jobId finishes). Returns whether it was.
local function reclaimStaleDeduplication(key, prefix, id, holder, jobId, ttl)
  if holder and redis.call("PTTL", key) == -1 and redis.call("EXISTS", prefix .. holder) == 0 then
    redis.call("DEL", prefix .. "dn:" .. id)
    claimDeduplication(key, jobId, ttl)
    return true
  end
  return false
end

-- keepLastIfActive: when the owner is in the active list, keeps the skipped job (`job`: name, data, opts,
-- parentKey, parent; "" when absent) as the owner's next job under the id jobId, makes the key permanent and
-- reports the skip. Returns whether it was kept.
local function keepAsNextJob(prefix, eventsKey, cap, id, holder, jobId, job)
  if not holder or not redis.call("LPOS", prefix .. "active", holder) then return false end
  local fields = {"name", job.name, "data", job.data, "opts", job.opts, "jid", jobId}
  if job.parentKey ~= "" then
    fields[#fields + 1] = "pk"
    fields[#fields + 1] = job.parentKey
    fields[#fields + 1] = "pd"
    fields[#fields + 1] = job.parent
    fields[#fields + 1] = "pdk"
    fields[#fields + 1] = job.parentKey .. ":dependencies"
  end
  local nextKey = prefix .. "dn:" .. id
  redis.call("DEL", nextKey)
  redis.call("HSET", nextKey, unpack(fields))
  redis.call("PERSIST", prefix .. "de:" .. id)
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "deduplicated", "jobId", holder,
    "deduplicationId", id, "deduplicatedJobId", jobId)
  return true
end

-- Decides whether the job about to be stored as jobId is a duplicate. `options` is the decoded deduplication
-- option {id, ttl?, extend?, replace?, keepLastIfActive?}; `job` the job as keepAsNextJob takes it. Returns nil
-- when the job is to be stored (it now owns the id), or the id of the job that owns it (nothing is to be stored)
-- and, when the job was kept as that owner's next job, true. Events: deduplicated (jobId = the owner,
-- deduplicationId, deduplicatedJobId = the job not stored); with `replace`, removed (prev=delayed) for a replaced
-- delayed owner and deduplicated with jobId = the new owner and deduplicatedJobId = the replaced one.
local function deduplicate(prefix, delayedKey, eventsKey, cap, options, jobId, job)
  local id = options["id"]
  local key = prefix .. "de:" .. id
  local ttl = tonumber(options["ttl"])
  if ttl and ttl <= 0 then ttl = nil end
  local keepLast = options["keepLastIfActive"] == true
  local claimTtl = ttl
  if keepLast then claimTtl = nil end
  local function report(owner, skipped)
    redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "deduplicated", "jobId", owner,
      "deduplicationId", id, "deduplicatedJobId", skipped)
  end
  local function skip(holder)
    if keepLast and keepAsNextJob(prefix, eventsKey, cap, id, holder, jobId, job) then return holder, true end
    report(holder, jobId)
    return holder
  end

  if options["replace"] then
    local holder = redis.call("GET", key)
    if not holder then
      claimDeduplication(key, jobId, claimTtl)
      return nil
    end
    -- Only an owner still waiting in the delayed set is replaced.
    if redis.call("ZREM", delayedKey, holder) == 1 then
      local left = redis.call("PTTL", key)
      deleteJob(prefix, holder, false)
      redis.call("DEL", prefix .. "dn:" .. id)
      redis.call("XADD", eventsKey, "*", "event", "removed", "jobId", holder, "prev", "delayed")
      report(jobId, holder)
      if claimTtl and not options["extend"] and left > 0 then
        redis.call("SET", key, jobId, "PX", left)  -- the window goes on; it is not restarted
      else
        claimDeduplication(key, jobId, claimTtl)
      end
      return nil
    end
    if reclaimStaleDeduplication(key, prefix, id, holder, jobId, claimTtl) then return nil end
    return skip(holder)
  end

  if ttl and options["extend"] then
    local holder = redis.call("GET", key)
    if not holder then
      claimDeduplication(key, jobId, claimTtl)
      return nil
    end
    if reclaimStaleDeduplication(key, prefix, id, holder, jobId, claimTtl) then return nil end
    if keepLast and keepAsNextJob(prefix, eventsKey, cap, id, holder, jobId, job) then return holder, true end
    claimDeduplication(key, holder, claimTtl)  -- the owner keeps the id for another ttl
    report(holder, jobId)
    return holder
  end

  local claimed
  if claimTtl then
    claimed = redis.call("SET", key, jobId, "PX", claimTtl, "NX")
  else
    claimed = redis.call("SET", key, jobId, "NX")
  end
  if claimed then return nil end
  local holder = redis.call("GET", key)
  if reclaimStaleDeduplication(key, prefix, id, holder, jobId, claimTtl) then return nil end
  return skip(holder)
end
