-- commit_many.lua: apply a batch of lifecycle changes decided in Python, each one all or
-- nothing and independently of the others, in one call (router: a batch of due timers).
-- Each change is what commit.lua applies alone: every check of the change runs before any
-- of its writes — a grievance's version 'v' is still the one read (-1: it must not exist
-- yet), an action id is new, a claimed timer is still scheduled — and a change whose check
-- fails writes nothing while the others still apply.  Nothing else is decided here.
-- Its KPI counter deltas are summed over the changes applied and written once per counter
-- at the end, still inside this call: never visible half done, and one HINCRBY per counter
-- instead of one per change and counter.
-- KEYS  every key the batch touches, each once
-- ARGV[1] MessagePack [changes, counter sets]:
--   a change is [key map, checks, ops, counter set]: the key map lists the KEYS index of
--   each of the change's own keys; checks ["v", k, version] | ["new_member", k, member] |
--   ["claim", k, member] and ops [command, k, arg…] refer to the change's keys by their
--   position in its key map (1-based); the counter set is an index into the counter sets;
--   a counter set is a list of [KEYS index, field, delta] (many changes share one).
-- Returns one verdict per change: 'ok' | 'conflict' | 'duplicate' | 'gone'.
local batch = cmsgpack.unpack(ARGV[1])
local changes, counter_sets = batch[1], batch[2]
local WRITES = {HSET = true, HINCRBY = true, HDEL = true, ZADD = true, ZREM = true,
  XADD = true, RPUSH = true, SADD = true, SREM = true, SET = true}
local CHECKS = {v = true, new_member = true, claim = true}
for _, change in ipairs(changes) do
  for _, c in ipairs(change[2]) do
    if not CHECKS[c[1]] then return redis.error_reply('unknown check ' .. tostring(c[1])) end
  end
  for _, op in ipairs(change[3]) do
    if not WRITES[op[1]] then return redis.error_reply('command not allowed: ' .. tostring(op[1])) end
  end
end

local function verdict(map, checks)
  for _, c in ipairs(checks) do
    local key = KEYS[map[c[2]]]
    if c[1] == 'v' then
      if c[3] == -1 then
        if redis.call('EXISTS', key) == 1 then return 'conflict' end
      elseif tonumber(redis.call('HGET', key, 'v') or 0) ~= c[3] then
        return 'conflict'
      end
    elseif c[1] == 'new_member' then
      if redis.call('SISMEMBER', key, c[3]) == 1 then return 'duplicate' end
    elseif not redis.call('ZSCORE', key, c[3]) then  -- 'claim'
      return 'gone'
    end
  end
  return 'ok'
end

local function apply(map, checks, ops)
  local claimed = {}
  for _, c in ipairs(checks) do
    if c[1] == 'new_member' then redis.call('SADD', KEYS[map[c[2]]], c[3]) end
    if c[1] == 'claim' then
      local key = KEYS[map[c[2]]]
      claimed[key] = claimed[key] or {}
      table.insert(claimed[key], c[3])
    end
  end
  for key, members in pairs(claimed) do redis.call('ZREM', key, unpack(members)) end
  for _, op in ipairs(ops) do
    redis.call(op[1], KEYS[map[op[2]]], unpack(op, 3))
  end
end

local verdicts, applied = {}, {}
for i, change in ipairs(changes) do
  verdicts[i] = verdict(change[1], change[2])
  if verdicts[i] == 'ok' then
    apply(change[1], change[2], change[3])
    applied[change[4]] = (applied[change[4]] or 0) + 1
  end
end
local sums, order = {}, {}
for set, times in pairs(applied) do
  for _, d in ipairs(counter_sets[set]) do
    local per_key = sums[d[1]]
    if not per_key then
      per_key = {}
      sums[d[1]] = per_key
      order[#order + 1] = d[1]
    end
    per_key[d[2]] = (per_key[d[2]] or 0) + times * tonumber(d[3])
  end
end
for _, key in ipairs(order) do
  for name, delta in pairs(sums[key]) do
    if delta ~= 0 then redis.call('HINCRBY', KEYS[key], name, string.format('%d', delta)) end
  end
end
return verdicts
