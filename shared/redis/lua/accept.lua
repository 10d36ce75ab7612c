-- accept.lua: accept one grievance exactly once (intake).
-- Idempotency check, the initial record, the tracking-number index and the XADD to
-- zt:submitted commit together, so concurrent repeats of one key yield one grievance.
-- KEYS[1] idempotency hash (or the grievance hash again when there is no key)
-- KEYS[2] grievance hash   KEYS[3] zt:submitted   KEYS[4] tracking key   KEYS[5] open index
-- ARGV[1] body hash ('' = no idempotency key)   ARGV[2] grievance id   ARGV[3] tracking no
-- ARGV[4] grievance JSON   ARGV[5] submitted_at ms   ARGV[6] idempotency TTL seconds
-- ARGV[7] the first record as flat JSON {field: text} (shared/record.py initial_fields)
-- KEYS[6] grievance document key (the JSON lives beside the hash so the hash stays compact)
-- ARGV[8] the writes derived from the new record, JSON [[command, key index, arg…], …]: the
--   read side's indexes and KPI counters (shared/readside.py) and, for a public Open311
--   report, its listing; KEYS[7…] are their keys.  A listed report or an indexed grievance
--   is so from the moment it exists.
-- Returns {'accepted', id} | {'duplicate', id} | {'conflict', id} | {'retry', ''} when the
-- random tracking number is taken (the caller draws another).
if ARGV[1] ~= '' then
  local existing = redis.call('HMGET', KEYS[1], 'id', 'hash')
  if existing[1] then
    if existing[2] ~= ARGV[1] then return {'conflict', existing[1]} end
    return {'duplicate', existing[1]}
  end
end
if redis.call('EXISTS', KEYS[4]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return {'retry', ''}
end
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'id', ARGV[2], 'hash', ARGV[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
end
local fields = {}
for name, value in pairs(cjson.decode(ARGV[7])) do
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('SET', KEYS[6], ARGV[4])
redis.call('SET', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[5], tonumber(ARGV[5]), ARGV[2])
local WRITES = {HINCRBY = true, ZADD = true, ZREM = true, SADD = true, SREM = true}
for _, op in ipairs(cjson.decode(ARGV[8])) do
  if not WRITES[op[1]] then return redis.error_reply('command not allowed: ' .. tostring(op[1])) end
  local args = {}
  for i = 3, #op do args[#args + 1] = op[i] end
  redis.call(op[1], KEYS[op[2]], unpack(args))
end
redis.call('XADD', KEYS[3], '*', 'payload', ARGV[4])
return {'accepted', ARGV[2]}
