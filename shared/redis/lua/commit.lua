-- commit.lua: apply one lifecycle change decided in Python (services/router/lifecycle.py),
-- all or nothing, only if what it was decided on still holds (router).
-- Every check runs before any write: a grievance's version 'v' is still the one read
-- (-1: the grievance must not exist yet), an action id is new to the applied-actions set,
-- a claimed timer is still scheduled.  Then the writes run in order; the version is bumped
-- by the HINCRBY the change carries.  Nothing else is decided here.
-- KEYS  every key the change touches (the grievances' hashes, timelines, action sets, the
--       timers zset, the events stream, the indexes), referred to by index below
-- ARGV[1] {"checks": [["v", k, version] | ["new_member", k, member] | ["claim", k, member]],
--          "ops": [[command, k, arg…], …]}
-- Returns 'ok', or the check that failed: 'conflict' | 'duplicate' | 'gone'.
local change = cjson.decode(ARGV[1])
for _, c in ipairs(change.checks) do
  local key = KEYS[c[2]]
  if c[1] == 'v' then
    if c[3] == -1 then
      if redis.call('EXISTS', key) == 1 then return 'conflict' end
    elseif tonumber(redis.call('HGET', key, 'v') or 0) ~= c[3] then
      return 'conflict'
    end
  elseif c[1] == 'new_member' then
    if redis.call('SISMEMBER', key, c[3]) == 1 then return 'duplicate' end
  elseif c[1] == 'claim' then
    if not redis.call('ZSCORE', key, c[3]) then return 'gone' end
  else
    return redis.error_reply('unknown check ' .. tostring(c[1]))
  end
end
local WRITES = {HSET = true, HINCRBY = true, HDEL = true, ZADD = true, ZREM = true,
  XADD = true, RPUSH = true, SADD = true, SREM = true, SET = true}
for _, op in ipairs(change.ops) do
  if not WRITES[op[1]] then return redis.error_reply('command not allowed: ' .. tostring(op[1])) end
end
for _, c in ipairs(change.checks) do
  if c[1] == 'new_member' then redis.call('SADD', KEYS[c[2]], c[3]) end
  if c[1] == 'claim' then redis.call('ZREM', KEYS[c[2]], c[3]) end
end
for _, op in ipairs(change.ops) do
  local args = {}
  for i = 3, #op do args[#args + 1] = op[i] end
  redis.call(op[1], KEYS[op[2]], unpack(args))
end
return 'ok'
