-- notify_digest_cut.lua: turn a bucket's oldest held jobs into one claimed digest (notifier).
-- The digest is claimed like any delivery (delivery key + job + lease in the retry
-- schedule, as notify_claim.lua does), and in the same step its jobs leave the bucket and
-- each gets a 'digested' record naming the digest: so every held job is in exactly one
-- digest, and the claim → send → settle machinery sends that digest once, also after a crash.
-- The caller read the bucket first; if its head is no longer the job ids given (another
-- replica cut it meanwhile) nothing happens.  Still in quiet hours, or the rate limit's
-- window still full: the bucket is only rescheduled.
-- KEYS[1] held list   KEYS[2] held jobs (hash: id → "reason\njob JSON")   KEYS[3] digest schedule
-- KEYS[4] send log (zset)   KEYS[5] digest delivery key   KEYS[6] retry schedule (zset)
-- KEYS[7] digest job key   KEYS[8] deliveries stream
-- KEYS[9..] the delivery keys of the held jobs covered, in ARGV[13..] order
-- ARGV[1] bucket   ARGV[2] now ms   ARGV[3] quiet until ms (0 = not quiet)
-- ARGV[4] rate limit (0 = none)   ARGV[5] window ms   ARGV[6] digest job id
-- ARGV[7] digest job JSON   ARGV[8] lease ms   ARGV[9] key TTL seconds
-- ARGV[10] deliveries stream max length (approximate)   ARGV[11] 'digested' record JSON
-- ARGV[12] number of jobs covered   ARGV[13..] their job ids, oldest first
-- Returns {'cut'} | {'deferred', due ms} | {'stale'} | {'empty'}.
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[12])
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'empty'}
end
if tonumber(ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[3], 'XX', tonumber(ARGV[3]), ARGV[1])
  return {'deferred', ARGV[3]}
end
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if n == 0 or #head ~= n then return {'stale'} end
for i = 1, n do
  if head[i] ~= ARGV[12 + i] then return {'stale'} end
end
local limit = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[4])
  if count >= limit then
    local freeing = redis.call('ZRANGE', KEYS[4], count - limit, count - limit, 'WITHSCORES')
    local due = tonumber(freeing[2]) + window
    redis.call('ZADD', KEYS[3], 'XX', due, ARGV[1])
    return {'deferred', tostring(due)}
  end
end
local ttl = tonumber(ARGV[9])
if not redis.call('SET', KEYS[5], 'sending', 'NX', 'EX', ttl) then return {'stale'} end
if limit > 0 then
  redis.call('ZADD', KEYS[4], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], window)
end
redis.call('SET', KEYS[7], ARGV[7])
redis.call('ZADD', KEYS[6], now_ms() + tonumber(ARGV[8]), ARGV[6])
redis.call('LTRIM', KEYS[1], n, -1)
local record = cjson.decode(ARGV[11])
local maxlen = tonumber(ARGV[10])
for i = 1, n do
  local id = ARGV[12 + i]
  local body = redis.call('HGET', KEYS[2], id)
  local job = body and cjson.decode(string.sub(body, string.find(body, '\n', 1, true) + 1)) or {}
  redis.call('HDEL', KEYS[2], id)
  redis.call('SET', KEYS[8 + i], 'digested', 'EX', ttl)
  record['delivery_id'] = id
  record['event_id'] = job['event_id']
  record['grievance_id'] = job['grievance_id']
  record['event_type'] = job['event_type']
  redis.call('XADD', KEYS[8], 'MAXLEN', '~', maxlen, '*', 'payload', cjson.encode(record))
end
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], 'XX', now, ARGV[1])  -- the rest: a next digest, as limits allow
end
return {'cut'}
