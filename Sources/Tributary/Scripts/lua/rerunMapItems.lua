--[[
  rerunMapItems: a map node that was retried or redriven (field `mapRerun`, includes/reopenMapNode.lua) sends the
  items that have no result back to run, one chunk per call, before it returns its result again (docs/flows.md,
  "Map nodes"). An item has no result when it is not in the map job's :processed hash and not one of its pending
  :dependencies: it failed, or it was removed. A failed item job is reset (fresh attempts, no reason); a removed one
  is stored again from its item. Either way it leaves the map's :failed hash, becomes a pending dependency again
  and is queued, or held under the map's maxConcurrency. Items that have a result are not touched: they keep it
  and do not run again. Calls are idempotent, so a worker that dies between chunks leaves nothing twice.

  KEYS:
    1 wait
    2 meta
    3 active
    4 events
    5 marker
    6 failed
    7 completed

  ARGV:
    1 job key prefix
    2 the map job's id
    3 now (ms)
    4 "1" on the last call: the rerun is done (`mapRerun` is removed)
    5 items' job name
    6 items' data (JSON)
    7 items' opts (JSON)
    8 items' parent link (JSON)
    9 extra fields for every item (JSON object of strings) or ""
    10... pairs: an item's index, its item (JSON)

  Returns:
    the number of items sent back to run by this call; -1 when the map job does not exist.

  Events: per item, added (an item stored again), then waiting (or nothing more while held).
]]
--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "mapItems"

local waitKey, metaKey, activeKey, eventsKey, markerKey, failedKey, completedKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local prefix, mapId, now, last = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == "1"
local name, data, opts, parent = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local mapKey = prefix .. mapId

if redis.call("EXISTS", mapKey) == 0 then return -1 end
local extra = mapItemExtraFields(ARGV[9])
local cap = maxEvents(metaKey)
local limit = tonumber(redis.call("HGET", mapKey, "mapMaxConcurrency") or 0)
local processedKey, dependenciesKey = mapKey .. ":processed", mapKey .. ":dependencies"
local inFlight = redis.call("SCARD", dependenciesKey) - redis.call("LLEN", mapKey .. ":held")
local rerun, ready = 0, 0
for pair = 10, #ARGV - 1, 2 do
  local index, item = ARGV[pair], ARGV[pair + 1]
  local itemId = mapId .. "/" .. index
  local itemKey = prefix .. itemId
  if redis.call("HEXISTS", processedKey, itemKey) == 0 and redis.call("SISMEMBER", dependenciesKey, itemKey) == 0 then
    local again = true
    if redis.call("EXISTS", itemKey) == 1 then
      -- A finished item runs again with fresh attempts; one in another state (never expected) is left alone.
      if redis.call("ZREM", failedKey, itemId) + redis.call("ZREM", completedKey, itemId) > 0 then
        redis.call("HDEL", itemKey, "finishedOn", "processedOn", "failedReason", "returnvalue", "stacktrace",
          "atm", "ats", "stc")
      else
        again = false
      end
    else
      storeMapItem(itemKey, itemId, mapKey, index, item, name, data, opts, parent, now, extra, eventsKey, cap)
    end
    if again then
      redis.call("HDEL", mapKey .. ":failed", itemKey)
      local queued
      inFlight, queued = queueMapItem(mapKey, itemKey, itemId, waitKey, eventsKey, cap, limit, inFlight)
      rerun = rerun + 1
      if queued then ready = ready + 1 end
    end
  end
end
if last then redis.call("HDEL", mapKey, "mapRerun") end
if ready > 0 and not isPausedOrMaxed(metaKey, activeKey) then
  redis.call("ZADD", markerKey, 0, "0")
end
return rerun
