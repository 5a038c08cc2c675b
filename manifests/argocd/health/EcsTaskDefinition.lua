-- Argo CD health of an ecs.operator.dev EcsTaskDefinition, from status.observedGeneration and the conditions.
-- Argo CD runs custom health scripts with base, table and a safe os only: no string or math library.
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report the task definition status"
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
-- Healthy once the spec is registered as a revision; Degraded when the spec cannot be registered.
if conditions.Degraded ~= nil and conditions.Degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(conditions.Degraded)
elseif conditions.Ready ~= nil and conditions.Ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(conditions.Ready)
else
  hs.status = "Progressing"
  if conditions.Progressing ~= nil then
    hs.message = explain(conditions.Progressing)
  else
    hs.message = "Waiting for the task definition to be registered"
  end
end
return hs
