--[[
  checkFlow: the first command of a flow's transaction. Redis does not roll back a transaction whose commands
  fail at run time, so everything that could make one node's add fail is checked here, before any write:
  the run record must not exist yet, the nodes' job keys must be free, and every key the adds touch in each
  queue must be missing or of the right type. Only when all holds is the guard key set; every add in the same
  transaction checks it first (addJobs.lua's guard key) and does nothing without it, and the transaction's last command
  deletes it. So a flow is stored whole or not at all.

  KEYS:
    none (the keys span queues and are given in ARGV)

  ARGV:
    1 guard key
    2 guard lifetime (ms), a safety net should the transaction's last command not run
    3 run record key that must not exist, or ""
    4 the run record's fields as a JSON object of strings (written with the guard), or ""
    5 the runs index (a sorted set of run ids by creation time)
    6 the run's creation time (ms)
    7 number of queues (n)
    8 .. 7+n the queues' qualified names ("<prefix>:<queue>")
    8+n .. the job keys that must not exist

  Returns:
    {1} all checks passed, the guard is set (and the run record written)
    {-10, runKey} the run already exists
    {-11, jobKey} a job key is taken
    {-12, key, type} a queue key has the wrong type

  Events: none.
]]
local guardKey, lifetime, runKey, runRecord, runsKey, createdAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local queueCount = tonumber(ARGV[7])

if runKey ~= "" and redis.call("EXISTS", runKey) == 1 then
  return {-10, runKey}
end
local expected = {wait = "list", active = "list", meta = "hash", id = "string", pc = "string",
  delayed = "zset", prioritized = "zset", marker = "zset", ["waiting-children"] = "zset", events = "stream"}
for index = 8, 7 + queueCount do
  for suffix, wanted in pairs(expected) do
    local key = ARGV[index] .. ":" .. suffix
    local found = redis.call("TYPE", key)["ok"]
    if found ~= "none" and found ~= wanted then
      return {-12, key, found}
    end
  end
end
for index = 8 + queueCount, #ARGV do
  if redis.call("EXISTS", ARGV[index]) == 1 then
    return {-11, ARGV[index]}
  end
end
redis.call("SET", guardKey, "1", "PX", lifetime)
if runKey ~= "" then
  -- In batches: a run record has two fields per node, more than unpack takes at once for large runs.
  local fields = {}
  for field, value in pairs(cjson.decode(runRecord)) do
    table.insert(fields, field)
    table.insert(fields, value)
    if #fields >= 1000 then
      redis.call("HSET", runKey, unpack(fields))
      fields = {}
    end
  end
  if #fields > 0 then redis.call("HSET", runKey, unpack(fields)) end
  redis.call("ZADD", runsKey, createdAt, string.match(runKey, "([^:]*)$"))
end
return {1}
