--! include lifecycle
-- assign.lua: give a newly submitted grievance to tier 1 and start its clock (router).
-- Idempotent: a grievance already past 'submitted' is skipped, so a redelivered
-- zt:submitted entry never assigns or notifies twice.
-- KEYS[1] grievance hash  KEYS[2] timeline  KEYS[3] timers  KEYS[4] events
-- KEYS[5] open index  KEYS[6] round-robin counter of the tier-1 branch
-- ARGV[1] key prefix  ARGV[2] grievance id
-- ARGV[3] tier-1 candidates JSON [{unit,name,kind}] (one is picked round-robin)
-- ARGV[4] tiers 2-3 JSON [{tier,unit,name,kind}, {…}]
-- ARGV[5] SLA snapshot as flat fields JSON {a1,r1,a2,r2,a3,r3,warn,fb,od,mext,mreo[,cal]}
-- ARGV[6] routing note   ARGV[7] initial record JSON (used only when intake did not write one)
-- ARGV[9] grievance document JSON (stored only when intake did not store it)
-- ARGV[8] id of the open civic report this one duplicates ('' = none)
-- Returns {'assigned', event_id, assignee} | {'linked', event_id, original} | {'skip', state}
local K = gkeys(ARGV[1], ARGV[2])
local g = load(K, ARGV[2])
if g == nil then
  local init = cjson.decode(ARGV[7])
  local args = {'state', 'submitted', 'seq', 0, 'gen', 0}
  for field, value in pairs(init) do
    args[#args + 1] = field
    args[#args + 1] = tostring(value)
  end
  redis.call('HSET', K.g, unpack(args))
  redis.call('ZADD', K.open, tonumber(init.submitted_at), ARGV[2])
  redis.call('SET', ARGV[1] .. 'doc:{' .. ARGV[2] .. '}', ARGV[9])
  g = load(K, ARGV[2])
end
if g.state ~= 'submitted' then return {'skip', g.state} end
local candidates = cjson.decode(ARGV[3])
local pick = candidates[1]
if #candidates > 1 then
  local n = redis.call('INCR', KEYS[6])
  pick = candidates[((n - 1) % #candidates) + 1]
end
local upper = cjson.decode(ARGV[4])
set_link(g, 1, pick)
set_link(g, 2, upper[1])
set_link(g, 3, upper[2])
for field, value in pairs(cjson.decode(ARGV[5])) do put(g, field, value) end
local now = now_ms()
if ARGV[8] ~= '' then
  local OK = gkeys(ARGV[1], ARGV[8])
  local original = load(OK, ARGV[8])
  if original and ACTIVE[original.state] then
    -- Linked: no clock of its own; both reporters are told, the original's outcome is mirrored.
    redis.call('SADD', OK.dups, g.id)
    put(g, 'duplicate_of', original.id)
    put(g, 'state', 'assigned')
    g.tier = original.tier
    put(g, 'tier', original.tier)
    put(g, 'assignee', original.assignee)
    put(g, 'assignee_name', original.assignee_name or '')
    put(g, 'assigned_at', now)
    local linked = {duplicate_of = original.id, original_tracking_no = original.tracking_no}
    local event_id = emit(K, g, 'grievance.duplicate_linked', now, {reason = 'nearby open report', data = linked})
    emit(OK, original, 'grievance.duplicate_linked', now, {reason = 'nearby report linked', data = {duplicate = g.id, duplicate_tracking_no = g.tracking_no}})
    save(OK, original)
    save(K, g)
    return {'linked', event_id, original.id}
  end
end
local event_id = assign_tier(K, g, 1, now, 'grievance.assigned', {reason = ARGV[6]})
save(K, g)
return {'assigned', event_id, pick.unit}
