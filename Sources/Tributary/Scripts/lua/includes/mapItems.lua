-- Items of a map node (expandMap.lua, rerunMapItems.lua; docs/flows.md, "Map nodes").

-- Stores item `index` of the map job `mapKey` as the job `itemKey`: BullMQ's single-parent fields (`parentKey`,
-- `parent`), `mapIndex`, `mapItem` (JSON) and the extra fields (a flat field/value list); emits `added`.
local function storeMapItem(itemKey, itemId, mapKey, index, item, name, data, opts, parent, now, extra, eventsKey, cap)
  redis.call("HSET", itemKey, "name", name, "data", data, "opts", opts, "timestamp", now, "delay", 0,
    "priority", 0, "parentKey", mapKey, "parent", parent, "mapIndex", index, "mapItem", item, unpack(extra))
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "added", "jobId", itemId, "name", name)
end

-- Makes the item a pending dependency of its map and queues it: to wait while fewer than `limit` items are in
-- flight (0: no limit), else to `<map job key>:held`. Returns the new number in flight and whether it was queued.
local function queueMapItem(mapKey, itemKey, itemId, waitKey, eventsKey, cap, limit, inFlight)
  redis.call("SADD", mapKey .. ":dependencies", itemKey)
  if limit > 0 and inFlight >= limit then
    redis.call("RPUSH", mapKey .. ":held", itemId)
    return inFlight, false
  end
  redis.call("LPUSH", waitKey, itemId)
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", itemId)
  return inFlight + 1, true
end

-- The extra fields of every item, from a JSON object of strings ("" for none), as a flat field/value list.
local function mapItemExtraFields(text)
  local extra = {}
  if text ~= "" then
    for field, value in pairs(cjson.decode(text)) do
      extra[#extra + 1] = field
      extra[#extra + 1] = value
    end
  end
  return extra
end
