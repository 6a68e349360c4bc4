--[[
  removeChildDependency: cuts a child loose from its parent (from each of its dependents, for a node several
  dependents need). The child leaves each parent's pending dependencies and loses its parentKey, parent and parents
  fields; nothing is recorded in the parents' :processed or :failed. A parent whose last pending child this was
  leaves waiting-children exactly as when its last child completes (see releaseWaitingParent in
  includes/moveParentOn.lua). The child itself stays where it is.

  KEYS:
    none (the job key is built from ARGV; the parent keys are read from the job)

  ARGV:
    1 job key prefix
    2 job id
    3 now (ms), for a parent with a delay

  Returns:
    0 the dependency was removed
    1 nothing to remove: the job has no parent, or it is no longer a pending dependency of any of its parents
      (it already completed, or was cut loose before)
    -1 the job does not exist; -5 its parent does not exist (none of them, for a shared node)

  Events: waiting (prev=waiting-children) or delayed on a parent's queue when that parent moves on.
]]
--- @include "jobParents"
--- @include "moveParentOn"

local prefix, jobId, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local parents = jobParents(jobKey)
if #parents == 0 then return 1 end
local anyParent, removed = false, false
for _, parent in ipairs(parents) do
  if redis.call("EXISTS", parent.key) == 1 then
    anyParent = true
    if redis.call("SREM", parent.key .. ":dependencies", jobKey) == 1 then
      removed = true
      releaseParentIfDone(parent.queueKey, parent.key, parent.id, now)
    end
  end
end
if not anyParent then return -5 end
if not removed then return 1 end
redis.call("HDEL", jobKey, "parentKey", "parent", "parents")
return 0
