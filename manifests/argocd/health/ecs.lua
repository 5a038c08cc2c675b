-- Argo CD health of the ecs.operator.dev kinds (EcsCluster, EcsTaskDefinition, EcsService, EcsTask), from
-- status.observedGeneration and the Ready/Progressing/Degraded conditions every kind reports the same way.
-- Argo CD runs custom health scripts with base, table and a safe os only: no string or math library.
local nouns = {
  EcsCluster = "cluster",
  EcsTaskDefinition = "task definition",
  EcsService = "service",
  EcsTask = "task",
}
local noun = nouns[obj.kind] or "resource"
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the " .. noun .. " status"
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
-- Degraded: a spec the operator cannot honour, a failed rollout, a task that cannot be placed or failed.
-- Progressing: a rollout, a scale or a start under way (even while old tasks still serve). Healthy: Ready.
if conditions.Degraded ~= nil and conditions.Degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(conditions.Degraded)
elseif conditions.Progressing ~= nil and conditions.Progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = explain(conditions.Progressing)
elseif conditions.Ready ~= nil and conditions.Ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(conditions.Ready)
else
  hs.status = "Progressing"
  hs.message = "Waiting for the " .. noun .. " to be ready"
end
return hs
