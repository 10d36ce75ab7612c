-- lifecycle.lua: the grievance state machine's building blocks, shared (via
-- `--! include lifecycle`) by assign.lua, act.lua and fire_timers.lua.
-- A grievance is loaded into a table, changed through put(), then written with one HSET by
-- save(); every change emits its event to zt:events and the timeline in the same script.

local function gkeys(prefix, gid)
  return {
    g = prefix .. 'g:{' .. gid .. '}',
    tl = prefix .. 'tl:{' .. gid .. '}',
    acts = prefix .. 'acts:{' .. gid .. '}',
    dups = prefix .. 'dups:{' .. gid .. '}',
    timers = prefix .. 'timers',
    events = prefix .. 'events',
    open = prefix .. 'idx:open',
    ended = prefix .. 'idx:ended',
  }
end

local ACTIVE = {assigned = true, acknowledged = true, awaiting_worker = true}
local ENDED = {closed = true, withdrawn = true, rejected = true}

local function put(g, field, value)
  g[field] = value
  g.dirty[field] = true
end

-- The hash holds only short fields so Redis keeps it in its compact (listpack) encoding:
-- the chain as c<tier>u/n/k (unit, name, kind), the SLA snapshot as a<tier>/r<tier> (ack /
-- resolve seconds), warn, fb, od, mext, mreo (and cal when a calendar is set), the
-- deadlines as epoch ms (ack_due, resolve_due, fb_due while the rating window is open), and
-- the pending timers as their kinds ("ack wa res wr"): a timer's member is id|kind|gen.
local function load(K, gid)
  local flat = redis.call('HGETALL', K.g)
  if #flat == 0 then return nil end
  local g = {id = gid, dirty = {}, kinds = {}, zadd = {}}
  for i = 1, #flat, 2 do g[flat[i]] = flat[i + 1] end
  g.seq = tonumber(g.seq or 0)
  g.gen = tonumber(g.gen or 0)
  g.tier = tonumber(g.tier or 0)
  for kind in string.gmatch(g.timers or '', '%S+') do g.kinds[#g.kinds + 1] = kind end
  return g
end

-- Write the changed fields in one HSET and the new timers in one ZADD.
local function save(K, g)
  if #g.zadd > 0 then redis.call('ZADD', K.timers, unpack(g.zadd)) end
  g.zadd = {}
  local args = {'seq', g.seq, 'gen', g.gen, 'timers', table.concat(g.kinds, ' ')}
  for field, _ in pairs(g.dirty) do
    args[#args + 1] = field
    args[#args + 1] = g[field]
  end
  redis.call('HSET', K.g, unpack(args))
end

local function link(g, tier)
  local t = tostring(tier)
  return {unit = g['c' .. t .. 'u'], name = g['c' .. t .. 'n'] or '', kind = g['c' .. t .. 'k'] or ''}
end

local function set_link(g, tier, l)
  local t = tostring(tier)
  put(g, 'c' .. t .. 'u', l.unit)
  put(g, 'c' .. t .. 'n', l.name or '')
  put(g, 'c' .. t .. 'k', l.kind or '')
end

local function sla_ack(g, tier) return tonumber(g['a' .. tier]) end
local function sla_resolve(g, tier) return tonumber(g['r' .. tier]) end
local function calendar(g)
  if g.cal == nil or g.cal == '' then return nil end
  if g.cal_t == nil then g.cal_t = cjson.decode(g.cal) end
  return g.cal_t
end

-- Return epoch ms after adding `secs` of working time (24x7 when cal is nil).
-- Mirrors services/router/sla.py:add_working_ms.
local function add_work(start, secs, cal)
  if cal == nil or cal == cjson.null then return start + math.floor(secs * 1000) end
  local DAY, off = 86400000, cal.off * 60000
  local days = {}
  for _, d in ipairs(cal.days) do days[d] = true end
  local t, remaining = start + off, math.floor(secs * 1000)
  for _ = 1, 4000 do
    local day = math.floor(t / DAY)
    local ws, we = day * DAY + cal.s * 60000, day * DAY + cal.e * 60000
    if days[(day + 3) % 7 + 1] then
      if t < ws then t = ws end
      if t < we then
        if remaining <= we - t then return t + remaining - off end
        remaining = remaining - (we - t)
      end
    end
    t = (day + 1) * DAY
  end
  return t - off
end

-- The timeline keeps the event without the fields it can derive (event_id = id.seq,
-- grievance_id, tracking_no; shared/store.py adds them back); zt:events gets them all.
local function emit(K, g, etype, now, ev)
  g.seq = g.seq + 1
  ev = ev or {}
  ev.seq = g.seq
  ev.type = etype
  ev.at = iso(now)
  ev.state = g.state
  if g.tier > 0 then ev.tier = g.tier end
  if g.assignee and g.assignee ~= '' then ev.assignee = g.assignee end
  ev.ack_due_at = iso(g.ack_due)
  ev.resolve_due_at = iso(g.resolve_due)
  ev.feedback_closes_at = iso(g.fb_due)
  ev.data = ev.data or {}
  if g.assignee_name and g.assignee_name ~= '' then ev.data.assignee_name = g.assignee_name end
  local compact = cjson.encode(ev)
  local event_id = g.id .. '.' .. g.seq
  -- ids and tracking numbers are [0-9A-Za-z.-]: safe to splice without escaping
  local head = '{"event_id":"' .. event_id .. '","grievance_id":"' .. g.id ..
    '","tracking_no":"' .. (g.tracking_no or '') .. '",'
  redis.call('XADD', K.events, '*', 'payload', head .. string.sub(compact, 2))
  redis.call('RPUSH', K.tl, compact)
  return event_id
end

local function timer_member(g, kind) return g.id .. '|' .. kind .. '|' .. g.gen end

local function timer_add(K, g, kind, due)
  g.zadd[#g.zadd + 1] = due
  g.zadd[#g.zadd + 1] = timer_member(g, kind)
  g.kinds[#g.kinds + 1] = kind
end

-- Cancel every pending timer and move to a new generation: timers of the old one are stale.
-- (A timer added earlier in this same script is only buffered in g.zadd: dropping the
-- buffer cancels it, and ZREM of its not-yet-written member is a harmless no-op.)
local function timers_clear(K, g)
  if #g.kinds > 0 then
    local members = {}
    for i, kind in ipairs(g.kinds) do members[i] = timer_member(g, kind) end
    redis.call('ZREM', K.timers, unpack(members))
  end
  g.kinds = {}
  g.zadd = {}
  g.gen = g.gen + 1
end

local function timer_forget(g, kind)
  for i, k in ipairs(g.kinds) do
    if k == kind then table.remove(g.kinds, i) return true end
  end
  return false
end

local function timer_pending(g, kind)
  for _, k in ipairs(g.kinds) do
    if k == kind then return true end
  end
  return false
end

-- Cancel one pending timer and keep the others (and the generation) as they are.
local function timer_drop(K, g, kind)
  if timer_forget(g, kind) then redis.call('ZREM', K.timers, timer_member(g, kind)) end
end

-- Stop the top-tier repeat alarm: no deadline is missed any more.
local function overdue_clear(K, g)
  timer_drop(K, g, 'od')
  put(g, 'overdue', '0')
end

-- Schedule the resolve deadline and its warning (the warning only if still ahead).
local function schedule_resolve(K, g, now)
  local due = tonumber(g.resolve_due)
  timer_add(K, g, 'res', due)
  local span = sla_resolve(g, g.tier) * 1000
  local warn_at = due - math.floor(span * (1 - tonumber(g.warn)))
  if warn_at > now then timer_add(K, g, 'wr', warn_at) end
end

local function schedule_ack(K, g, now)
  local due = tonumber(g.ack_due)
  timer_add(K, g, 'ack', due)
  local span = sla_ack(g, g.tier) * 1000
  local warn_at = due - math.floor(span * (1 - tonumber(g.warn)))
  if warn_at > now then timer_add(K, g, 'wa', warn_at) end
end

-- The worker's rating window closes (rated, reopened, expired or ended otherwise).
local function feedback_window_close(g)
  if g.fb_due and g.fb_due ~= '' then put(g, 'fb_due', '') end
end

-- Give the grievance to chain[tier] with fresh deadlines from `now`.
local function assign_tier(K, g, tier, now, etype, ev)
  local target = link(g, tier)
  local previous = g.assignee
  timers_clear(K, g)
  g.tier = tier
  put(g, 'tier', tier)
  put(g, 'assignee', target.unit)
  put(g, 'assignee_name', target.name)
  put(g, 'assignee_kind', target.kind)
  put(g, 'state', 'assigned')
  put(g, 'assigned_at', now)
  put(g, 'acked_at', '')
  put(g, 'overdue', '0')
  feedback_window_close(g)
  put(g, 'ack_due', add_work(now, sla_ack(g, tier), calendar(g)))
  put(g, 'resolve_due', add_work(now, sla_resolve(g, tier), calendar(g)))
  schedule_ack(K, g, now)
  schedule_resolve(K, g, now)
  ev = ev or {}
  if previous and previous ~= '' and previous ~= target.unit then ev.previous_assignee = previous end
  return emit(K, g, etype, now, ev)
end

-- End the grievance (closed / withdrawn / rejected): no timers, out of the open index.
local function finish(K, g, state, now)
  timers_clear(K, g)
  put(g, 'state', state)
  put(g, 'closed_at', now)
  put(g, 'overdue', '0')
  feedback_window_close(g)
  put(g, 'ack_due', '')
  put(g, 'resolve_due', '')
  redis.call('ZREM', K.open, g.id)
  redis.call('ZADD', K.ended, now, g.id)
end

-- A deadline passed: escalate one tier, or at the top mark overdue and repeat the alarm.
local function breach(K, g, reason, now)
  put(g, 'breaches', tonumber(g.breaches or 0) + 1)
  if g.tier < 3 then
    return assign_tier(K, g, g.tier + 1, now, 'grievance.escalated', {reason = reason})
  end
  if g.overdue ~= '1' then
    put(g, 'overdue', '1')
    timer_add(K, g, 'od', now + tonumber(g.od) * 1000)
  end
  return emit(K, g, 'grievance.overdue', now, {reason = reason})
end

-- Record the first response for the KPIs (response rate = acknowledged within SLA).
local function note_first_ack(g, now)
  if g.first_acked_at == nil or g.first_acked_at == '' then
    put(g, 'first_acked_at', now)
    put(g, 'ack_in_sla', (g.ack_due ~= '' and now <= tonumber(g.ack_due)) and '1' or '0')
    put(g, 'ack_tier', g.tier)
    put(g, 'ack_unit', g.assignee)
  end
end

-- Civic duplicates (SPEC §7): a linked report has no clock of its own; its reporter hears
-- the original's outcome.  Apply `fn(K, dup)` to every open duplicate of `g`.
local function each_duplicate(K, g, prefix, fn)
  for _, dup_id in ipairs(redis.call('SMEMBERS', K.dups)) do
    local DK = gkeys(prefix, dup_id)
    local dup = load(DK, dup_id)
    if dup and not ENDED[dup.state] then
      fn(DK, dup)
      save(DK, dup)
    end
  end
end

-- The original was resolved: tell each duplicate's reporter and close the duplicate.
local function resolve_duplicates(K, g, prefix, now, resolution)
  each_duplicate(K, g, prefix, function(DK, dup)
    put(dup, 'state', 'resolved')
    put(dup, 'resolved_at', now)
    put(dup, 'resolution', resolution)
    emit(DK, dup, 'grievance.resolved', now, {reason = 'original_resolved', data = {resolution = resolution, duplicate_of = g.id}})
    finish(DK, dup, 'closed', now)
    emit(DK, dup, 'grievance.closed', now, {reason = 'original_resolved', data = {duplicate_of = g.id}})
  end)
end

-- The original ended without a resolution: each duplicate gets its own chain and clock.
local function promote_duplicates(K, g, prefix, now)
  each_duplicate(K, g, prefix, function(DK, dup)
    put(dup, 'duplicate_of', '')
    assign_tier(DK, dup, 1, now, 'grievance.assigned', {reason = 'original ' .. g.state .. '; routed on its own'})
  end)
end
