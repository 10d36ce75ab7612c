--! include lifecycle
-- act.lua: apply one action to one grievance, or refuse it with a reason (router).
-- Dedupe (action id), authorisation, the state change, its events and its timers commit
-- together; a refusal changes no state and is itself an event (action.refused).
-- KEYS[1] grievance hash  KEYS[2] timeline  KEYS[3] timers  KEYS[4] events
-- KEYS[5] applied-actions set  KEYS[6] open index  KEYS[7] ended index
-- ARGV[1] key prefix  ARGV[2] grievance id
-- ARGV[3] action JSON {action_id, type, actor{id,role}, note, reason, resolution, rating,
--         comment, new_deadline_ms, assignee, assignee_name, departments}
-- ARGV[4] refusal decided by the router from the directory ('' = none)
-- Returns {'applied', event_id…} | {'refused', reason} | {'duplicate'} | {'missing'}
local K = gkeys(ARGV[1], ARGV[2])
local a = cjson.decode(ARGV[3])
local g = load(K, ARGV[2])
if g == nil then return {'missing'} end
if redis.call('SADD', K.acts, a.action_id) == 0 then return {'duplicate'} end

local function text(v) return (v ~= nil and v ~= cjson.null and v ~= '') and v or nil end
local now = now_ms()
local actor = {id = a.actor.id, role = a.actor.role}
local ids = {}

local function refuse(reason)
  emit(K, g, 'action.refused', now, {
    reason = reason, actor = actor,
    data = {refused_action = a.type, action_id = a.action_id},
  })
  save(K, g)
  return {'refused', reason}
end

local function in_chain(unit)
  for t = math.max(g.tier, 1), 3 do
    if g['c' .. t .. 'u'] == unit then return true end
  end
  return false
end

local function is_worker() return actor.role == 'worker' and actor.id == g.worker_id end

local function is_department()
  if not g.departments or g.departments == '' then return false end
  for _, d in ipairs(cjson.decode(g.departments)) do if d == actor.id then return true end end
  return false
end

local WORKER_ONLY = {feedback = true, withdraw = true, worker_reply = true}

-- Authorisation first: who may act at all.
if text(ARGV[4]) then return refuse(ARGV[4]) end
if WORKER_ONLY[a.type] then
  if not is_worker() then return refuse('only the worker who filed the grievance may ' .. a.type) end
elseif a.type == 'add_note' and (is_worker() or is_department()) then
  -- the worker and referred departments may always add information
elseif not in_chain(actor.id) then
  return refuse('actor ' .. actor.id .. ' is neither the current assignee (' ..
    (g.assignee or 'none') .. ') nor a unit above it in the chain')
end
if ENDED[g.state] then return refuse('the grievance is already ' .. g.state) end
if g.state == 'submitted' and a.type ~= 'withdraw' then
  return refuse('the grievance is not assigned yet')
end
if g.duplicate_of and g.duplicate_of ~= '' and a.type ~= 'withdraw' and a.type ~= 'add_note' then
  return refuse('this report is linked to ' .. g.duplicate_of .. ' as a duplicate; act on that one')
end

local handlers = {}

function handlers.acknowledge()
  if g.state ~= 'assigned' then return refuse('only an assigned grievance can be acknowledged (state is ' .. g.state .. ')') end
  note_first_ack(g, now)
  -- The resolve deadline and its pending timers stand as they are.  If its timer already
  -- fired (only possible at the top tier: below it the breach escalated), oversight was told
  -- and the grievance stays overdue with its repeat alarm; scheduling that deadline again
  -- would raise a second alarm for it.  Otherwise only the missed ack made it overdue, and
  -- acknowledging answers that.
  timer_drop(K, g, 'ack')
  timer_drop(K, g, 'wa')
  if timer_pending(g, 'res') then overdue_clear(K, g) end
  put(g, 'state', 'acknowledged')
  put(g, 'acked_at', now)
  put(g, 'ack_due', '')
  ids[#ids + 1] = emit(K, g, 'grievance.acknowledged', now, {actor = actor})
end

function handlers.request_info()
  if g.state ~= 'acknowledged' then return refuse('acknowledge the grievance before asking the worker for information (state is ' .. g.state .. ')') end
  timers_clear(K, g)
  put(g, 'state', 'awaiting_worker')
  put(g, 'paused_remaining', math.max(tonumber(g.resolve_due) - now, 0))
  put(g, 'paused_at', now)
  put(g, 'resolve_due', '')
  ids[#ids + 1] = emit(K, g, 'grievance.info_requested', now, {actor = actor, reason = text(a.reason), data = {note = text(a.note)}})
end

function handlers.worker_reply()
  if g.state ~= 'awaiting_worker' then return refuse('no information was requested from the worker (state is ' .. g.state .. ')') end
  timers_clear(K, g)
  put(g, 'state', 'acknowledged')
  put(g, 'resolve_due', now + tonumber(g.paused_remaining or 0))
  put(g, 'paused_at', '')
  if g.overdue == '1' then
    -- The resolve deadline was missed and reported before the pause: resume the repeat
    -- alarm rather than report the same deadline again.
    timer_add(K, g, 'od', now + tonumber(g.od) * 1000)
  else
    schedule_resolve(K, g, now)
  end
  ids[#ids + 1] = emit(K, g, 'grievance.worker_replied', now, {actor = actor, data = {note = text(a.note)}})
end

function handlers.add_note()
  if not text(a.note) then return refuse('a note needs text') end
  ids[#ids + 1] = emit(K, g, 'grievance.note_added', now, {actor = actor, data = {note = a.note}})
end

function handlers.escalate()
  if not ACTIVE[g.state] then return refuse('only an open, assigned grievance can be escalated (state is ' .. g.state .. ')') end
  if g.tier >= 3 then return refuse('the grievance is already at the top tier') end
  ids[#ids + 1] = assign_tier(K, g, g.tier + 1, now, 'grievance.escalated', {actor = actor, reason = text(a.reason) or 'manual'})
end

function handlers.reassign()
  if g.state ~= 'assigned' and g.state ~= 'acknowledged' then return refuse('only an assigned or acknowledged grievance can be reassigned (state is ' .. g.state .. ')') end
  if not text(a.assignee) or a.assignee == g.assignee then return refuse('reassign needs a different assignee') end
  set_link(g, g.tier, {unit = a.assignee, name = a.assignee_name or a.assignee, kind = link(g, g.tier).kind})
  ids[#ids + 1] = assign_tier(K, g, g.tier, now, 'grievance.reassigned', {actor = actor, reason = text(a.reason)})
end

function handlers.refer()
  if not ACTIVE[g.state] then return refuse('only an open grievance can be referred (state is ' .. g.state .. ')') end
  if g.tier ~= 3 then return refuse('only the committee refers a grievance to the joint meeting') end
  if a.departments == nil or a.departments == cjson.null or #a.departments == 0 then return refuse('refer needs at least one department') end
  put(g, 'departments', cjson.encode(a.departments))
  ids[#ids + 1] = emit(K, g, 'grievance.referred', now, {actor = actor, reason = text(a.reason), data = {departments = a.departments}})
end

function handlers.extend()
  if g.state ~= 'assigned' and g.state ~= 'acknowledged' then return refuse('only an assigned or acknowledged grievance can be extended (state is ' .. g.state .. ')') end
  if not text(a.reason) then return refuse('an extension needs a reason the worker can read') end
  local used = tonumber(g.ext_count or 0)
  if used >= tonumber(g.mext) then return refuse('the deadline was already extended ' .. used .. ' times (the limit)') end
  local new_due = tonumber(a.new_deadline_ms)
  if new_due == nil or new_due <= tonumber(g.resolve_due) then return refuse('the new deadline must be later than the current one (' .. iso(g.resolve_due) .. ')') end
  -- Only the resolve deadline moves.  A missed ack that was already reported (top tier,
  -- its timer fired) keeps the grievance overdue; anything else overdue was the old
  -- resolve deadline, which the extension replaces.
  local ack_missed = g.state == 'assigned' and not timer_pending(g, 'ack')
  timer_drop(K, g, 'res')
  timer_drop(K, g, 'wr')
  if not ack_missed then overdue_clear(K, g) end
  put(g, 'ext_count', used + 1)
  put(g, 'resolve_due', new_due)
  schedule_resolve(K, g, now)
  ids[#ids + 1] = emit(K, g, 'grievance.extended', now, {actor = actor, reason = a.reason, data = {new_deadline = iso(new_due), extensions = used + 1}})
end

function handlers.resolve()
  if not ACTIVE[g.state] then return refuse('only an open grievance can be resolved (state is ' .. g.state .. ')') end
  if not text(a.resolution) then return refuse('resolve needs a resolution text for the worker') end
  note_first_ack(g, now)
  timers_clear(K, g)
  put(g, 'state', 'resolved')
  put(g, 'resolved_at', now)
  put(g, 'resolved_tier', g.tier)
  put(g, 'resolved_unit', g.assignee)
  put(g, 'resolve_in_sla', (g.resolve_due ~= '' and now <= tonumber(g.resolve_due)) and '1' or '0')
  put(g, 'resolution', a.resolution)
  put(g, 'ack_due', '')
  put(g, 'resolve_due', '')
  put(g, 'overdue', '0')
  local window = tonumber(g.fb) * 1000
  put(g, 'fb_due', now + window)  -- every event while the window is open carries it
  timer_add(K, g, 'fb', now + window)
  timer_add(K, g, 'fbr', now + math.floor(window * tonumber(g.warn)))
  ids[#ids + 1] = emit(K, g, 'grievance.resolved', now, {actor = actor, data = {resolution = a.resolution}})
  ids[#ids + 1] = emit(K, g, 'grievance.feedback_requested', now)
  resolve_duplicates(K, g, ARGV[1], now, a.resolution)
end

function handlers.feedback()
  if g.state ~= 'resolved' then return refuse('feedback is taken once the grievance is resolved (state is ' .. g.state .. ')') end
  local rating = tonumber(a.rating)
  if rating == nil or rating < 1 or rating > 5 then return refuse('rating must be 1 to 5') end
  put(g, 'rating', rating)
  put(g, 'comment', text(a.comment) or '')
  local reopens = tonumber(g.reopen_count or 0)
  local data = {rating = rating, comment = text(a.comment)}
  if rating <= 2 and reopens < tonumber(g.mreo) then
    put(g, 'reopen_count', reopens + 1)
    ids[#ids + 1] = assign_tier(K, g, math.min(g.tier + 1, 3), now, 'grievance.reopened', {actor = actor, reason = 'rating ' .. rating, data = data})
    return
  end
  finish(K, g, 'closed', now)
  ids[#ids + 1] = emit(K, g, 'grievance.closed', now, {actor = actor, reason = 'rated', data = data})
end

function handlers.withdraw()
  if g.duplicate_of and g.duplicate_of ~= '' then
    redis.call('SREM', gkeys(ARGV[1], g.duplicate_of).dups, g.id)
  end
  finish(K, g, 'withdrawn', now)
  ids[#ids + 1] = emit(K, g, 'grievance.withdrawn', now, {actor = actor, reason = text(a.reason)})
  promote_duplicates(K, g, ARGV[1], now)
end

local handler = handlers[a.type]
if handler == nil then return refuse('unknown action type ' .. tostring(a.type)) end
local refused = handler()
if refused then return refused end
save(K, g)
return {'applied', unpack(ids)}
