--[[
  expandMap: adds one chunk of a map node's items as child jobs of the map node's job (docs/flows.md, "Map
  nodes"). Item n gets the job id `<map job id>/<n>` (0-based) in the map's queue, BullMQ's single-parent fields
  (`parentKey`, `parent` with the ignore flag, so a failed item is recorded in the map's :failed and does not fail
  it at once), and the fields `mapIndex` and `mapItem` (JSON). The map job's `mapExpanded` field counts the items
  added so far: a chunk is only added when it starts there, so a second expansion after a worker died in the middle
  adds every item exactly once (an item that already finished and was removed is not added again).
  With a concurrency limit, an item beyond it is pushed to `<map job key>:held` instead of wait; items finishing
  release held ones (includes/releaseHeldItem.lua).

  KEYS:
    1 wait
    2 meta
    3 active
    4 events
    5 marker

  ARGV:
    1 job key prefix
    2 the map job's id
    3 index of the chunk's first item (0-based)
    4 total number of items
    5 max concurrency (0: no limit)
    6 now (ms)
    7 items' job name
    8 items' data (JSON)
    9 items' opts (JSON)
    10 items' parent link (JSON)
    11 extra fields for every item (JSON object of strings) or ""
    12... the chunk's items, one JSON text each

  Returns:
    the number of items added so far (`mapExpanded`) after this call: start + chunk size when the chunk was
    added, the stored count unchanged when the chunk did not start there; -1 when the map job does not exist.

  Events: added, then waiting (or nothing more while held), per item.
]]
--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "mapItems"

local waitKey, metaKey, activeKey, eventsKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, mapId, start, total = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limit, now, name, data, opts, parent = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local mapKey = prefix .. mapId

if redis.call("EXISTS", mapKey) == 0 then return -1 end
local expanded = tonumber(redis.call("HGET", mapKey, "mapExpanded") or 0)
if expanded ~= start then return expanded end

local extra = mapItemExtraFields(ARGV[11])
local cap = maxEvents(metaKey)
local inFlight = redis.call("SCARD", mapKey .. ":dependencies") - redis.call("LLEN", mapKey .. ":held")
local ready = 0
local count = #ARGV - 11
for offset = 1, count do
  local index = start + offset - 1
  local itemId = mapId .. "/" .. index
  local itemKey = prefix .. itemId
  if redis.call("EXISTS", itemKey) == 0 then
    storeMapItem(itemKey, itemId, mapKey, index, ARGV[11 + offset], name, data, opts, parent, now, extra, eventsKey, cap)
    local queued
    inFlight, queued = queueMapItem(mapKey, itemKey, itemId, waitKey, eventsKey, cap, limit, inFlight)
    if queued then ready = ready + 1 end
  end
end
redis.call("HSET", mapKey, "mapExpanded", start + count, "mapTotal", total, "mapMaxConcurrency", limit)
if ready > 0 and not isPausedOrMaxed(metaKey, activeKey) then
  redis.call("ZADD", markerKey, 0, "0")
end
return start + count
