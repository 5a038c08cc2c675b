-- Argo CD health of an ecs.operator.dev EcsTask, from status.observedGeneration and the conditions.
-- Argo CD runs custom health scripts with base, table and a safe os only: no string or math library.
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the task status"
  return hs
end
local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  if condition.type ~= nil then
    conditions[condition.type] = condition
  end
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if observed == nil and conditions.Ready ~= nil then
  observed = conditions.Ready.observedGeneration
end
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
local function explain(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  return condition.reason or ""
end
-- Degraded: a task that cannot be placed (reason Unschedulable, still Progressing too) or that stopped
-- with a failure (TaskFailed). Healthy: every task RUNNING (Running) or stopped cleanly (Completed).
if conditions.Degraded ~= nil and conditions.Degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(conditions.Degraded)
elseif conditions.Ready ~= nil and conditions.Ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(conditions.Ready)
elseif conditions.Progressing ~= nil and conditions.Progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = explain(conditions.Progressing)
else
  hs.status = "Progressing"
  hs.message = "Waiting for the tasks to start"
end
return hs
