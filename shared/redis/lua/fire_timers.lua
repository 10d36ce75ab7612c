--! include lifecycle
-- fire_timers.lua: take every SLA timer due by the Redis clock (up to a batch) and apply
-- its effect — state change, event, next timer — in this one script (router poller).
-- ZREM and effect commit together, so with any number of router replicas each timer is
-- taken by exactly one call; a timer whose generation is older than the grievance's is
-- stale (a later change superseded it) and is dropped.
-- Grievance keys are derived from the prefix (one grievance per timer, not known up front);
-- see README "Scaling out" for the hash-tagged partitioning planned for Redis Cluster.
-- KEYS[1] timers zset  KEYS[2] events stream
-- ARGV[1] key prefix  ARGV[2] batch size
-- Returns {fired, stale, lateness_ms of each fired timer…}
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {0, 0}

local function fire(K, g, kind)
  timer_forget(g, kind)
  local state = g.state
  if kind == 'ack' then
    if state == 'assigned' then return breach(K, g, 'ack_overdue', now) end
  elseif kind == 'res' then
    if state == 'assigned' or state == 'acknowledged' then return breach(K, g, 'resolve_overdue', now) end
  elseif kind == 'wa' then
    if state == 'assigned' then
      return emit(K, g, 'grievance.sla_warning', now, {reason = 'ack_due_soon', data = {warning_for = 'ack'}})
    end
  elseif kind == 'wr' then
    if state == 'assigned' or state == 'acknowledged' then
      return emit(K, g, 'grievance.sla_warning', now, {reason = 'resolve_due_soon', data = {warning_for = 'resolve'}})
    end
  elseif kind == 'fb' then
    if state == 'resolved' then
      finish(K, g, 'closed', now)
      return emit(K, g, 'grievance.closed', now, {reason = 'feedback_window_expired'})
    end
  elseif kind == 'fbr' then
    if state == 'resolved' then
      return emit(K, g, 'grievance.feedback_requested', now, {reason = 'reminder', data = {reminder = true}})
    end
  elseif kind == 'od' then
    if ACTIVE[state] and g.overdue == '1' then
      timer_add(K, g, 'od', now + tonumber(g.od) * 1000)
      return emit(K, g, 'grievance.overdue', now, {reason = 'still_overdue'})
    end
  end
  return nil
end

-- Take every due timer in one ZREM: from here on this call owns them.
if #due > 0 then
  local members = {}
  for i = 1, #due, 2 do members[#members + 1] = due[i] end
  redis.call('ZREM', KEYS[1], unpack(members))
end

-- Return id, kind, generation of a member "id|kind|gen" (plain finds, no backtracking).
local function parse(member)
  local a = string.find(member, '|', 1, true)
  if not a then return nil end
  local b = string.find(member, '|', a + 1, true)
  if not b then return nil end
  return string.sub(member, 1, a - 1), string.sub(member, a + 1, b - 1), string.sub(member, b + 1)
end

for i = 1, #due, 2 do
  local member, score = due[i], tonumber(due[i + 1])
  local gid, kind, gen = parse(member)
  local fired = nil
  if gid then
    local K = gkeys(ARGV[1], gid)
    local g = load(K, gid)
    if g and tostring(g.gen) == gen then
      fired = fire(K, g, kind)
      save(K, g)
    end
  end
  if fired then
    out[1] = out[1] + 1
    out[#out + 1] = now - score
  else
    out[2] = out[2] + 1
  end
end
return out
