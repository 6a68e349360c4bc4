--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"
--- @include "maxEvents"

-- keepLastIfActive: when a job that held deduplication id `id` finishes for good, the job kept for it while it
-- ran (HASH <prefix>:<queue>:dn:<id>, see includes/deduplicate.lua) is added now, as BullMQ adds it: with the id
-- the skipped add would have had (`jid`; the id counter moves either way), timestamp `now`, delayed, prioritized
-- or pushed (lifo) as its opts say, holding the deduplication id (without ttl under keepLastIfActive), and linked
-- to its parent when it had one. The hash is deleted last. A `jid` that names a job that exists again (a custom id
-- re-added meanwhile) is not overwritten: the kept job is dropped with a `duplicated` event.
-- `k` holds the queue's keys (wait, active, prioritized, delayed, pc, meta, events, marker).
local function addKeptNextJob(prefix, id, k, now)
  local nextKey = prefix .. "dn:" .. id
  if redis.call("EXISTS", nextKey) == 0 then return end
  local kept = redis.call("HMGET", nextKey, "name", "data", "opts", "pk", "pd", "pdk", "rjk", "jid")
  local counter = redis.call("INCR", prefix .. "id")
  local jobId = kept[8] or tostring(counter)
  local jobKey = prefix .. jobId
  local cap = maxEvents(k.meta)
  if redis.call("EXISTS", jobKey) == 1 then
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", jobId)
    redis.call("DEL", nextKey)
    return
  end
  local optsText = kept[3] or "{}"
  local decoded, opts = pcall(cjson.decode, optsText)
  if not decoded or type(opts) ~= "table" then opts = {} end
  local delay = tonumber(opts["delay"]) or 0
  local priority = tonumber(opts["priority"]) or 0
  local de = opts["de"]
  if type(de) ~= "table" then de = {} end

  local key = prefix .. "de:" .. id
  local ttl = tonumber(de["ttl"])
  if ttl and ttl > 0 and de["keepLastIfActive"] ~= true then
    redis.call("SET", key, jobId, "PX", ttl)
  else
    redis.call("SET", key, jobId)
  end

  local fields = {"name", kept[1] or "", "data", kept[2] or "{}", "opts", optsText, "timestamp", now,
    "delay", delay, "priority", priority}
  if kept[4] then
    fields[#fields + 1] = "parentKey"
    fields[#fields + 1] = kept[4]
    if kept[5] then
      fields[#fields + 1] = "parent"
      fields[#fields + 1] = kept[5]
    end
  end
  if kept[7] then
    fields[#fields + 1] = "rjk"
    fields[#fields + 1] = kept[7]
  end
  if type(de["id"]) == "string" then
    fields[#fields + 1] = "deid"
    fields[#fields + 1] = de["id"]
  end
  redis.call("HSET", jobKey, unpack(fields))
  redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "added", "jobId", jobId, "name", kept[1] or "")
  if delay > 0 then
    scheduleDelayed(k.delayed, k.marker, jobId, now + delay)
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", jobId, "delay", now + delay)
  else
    local push = "LPUSH"
    if opts["lifo"] == true then push = "RPUSH" end
    enqueueReady(k.wait, k.prioritized, k.pc, k.marker, jobId, priority, push, isPausedOrMaxed(k.meta, k.active))
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId)
  end
  if kept[6] then redis.call("SADD", kept[6], jobKey) end
  redis.call("DEL", nextKey)
end
