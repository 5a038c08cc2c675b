-- Argo CD health of an ecs.operator.dev EcsService, from status.observedGeneration and the conditions.
-- Argo CD runs custom health scripts with base, table and a safe os only: no string or math library.
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the service status"
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
-- A failed rollout or a spec the operator cannot honour is Degraded; a rollout in progress (a new
-- task definition, a scale) is Progressing even while old tasks still serve; steady is Healthy.
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
  hs.message = "Waiting for the service to reach a steady state"
end
return hs
