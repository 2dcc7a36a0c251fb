-- Argo CD health check for banking.consent-operator.dev BankConnection and SyncJob:
-- both kinds publish status.observedGeneration and kstatus conditions the same way,
-- so one script serves the two argocd-cm keys.
-- The operator writes a Ready condition on its first reconcile (Unknown while work is
-- pending). BankConnection: Stalled=True appears only when a human must act (consent
-- expired or revoked, invalid client credentials); a provider outage leaves Ready
-- Unknown and never reads as Degraded. SyncJob: Ready is Unknown while a run is
-- pending or the connection is not Ready yet (WaitingForConnection), False when the
-- last run failed (RunFailed) or runs are deferred (BudgetExhausted); Stalled=True
-- means the spec needs fixing.
local hs = {}

-- What suspend stops differs by kind.
local suspendedMessages = {
  BankConnection = "Suspended: no provider calls are made and tokens are not refreshed",
  SyncJob = "Suspended: no new runs are started",
}

local function condition(conditions, condType)
  for _, c in ipairs(conditions or {}) do
    if c.type == condType then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c == nil then
    return fallback
  end
  if c.message ~= nil and c.message ~= "" then
    return (c.reason or c.type) .. ": " .. c.message
  end
  return c.reason or fallback
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. string.format("%d", generation)
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = suspendedMessages[obj.kind] or "Suspended"
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = describe(ready, "Waiting for the operator to reconcile")
  -- connectURL and ConsentExpiring exist only on a BankConnection.
  if status.connectURL ~= nil and ready ~= nil and ready.reason == "AwaitingAuthorization" then
    hs.message = hs.message .. " (connect link: " .. status.connectURL .. ")"
  end
  return hs
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready, "Not ready")
  return hs
end

hs.status = "Healthy"
local expiring = condition(status.conditions, "ConsentExpiring")
if expiring ~= nil and expiring.status == "True" then
  hs.message = describe(expiring, "Consent expires soon")
  if status.reconsentURL ~= nil and status.reconsentURL ~= "" then
    hs.message = hs.message .. " (re-consent link: " .. status.reconsentURL .. ")"
  end
else
  hs.message = describe(ready, "Ready")
end
return hs
