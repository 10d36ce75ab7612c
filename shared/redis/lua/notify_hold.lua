-- notify_hold.lua: decide "send now or hold" for one claimed first attempt (notifier pacing).
-- Held: the job leaves the retry schedule and joins its bucket (recipient + channel) for the
-- next digest; the delivery key becomes 'held' and zt:deliveries gets a 'held' record, all
-- in one step, so a crash either leaves the claim leased (the retry loop asks again) or the
-- job held.  The rate limit is a sliding window over the bucket's send log; its rule
-- mirrors pacing.window_frees_at (a parity test keeps the two equal).  Times are the
-- notifier's clock (ARGV[3]), the one the quiet hours are computed with.
-- KEYS[1] delivery key   KEYS[2] retry schedule (zset)   KEYS[3] job key
-- KEYS[4] held list   KEYS[5] held jobs (hash: id → "reason\njob JSON")   KEYS[6] digest schedule
-- KEYS[7] send log (zset)   KEYS[8] deliveries stream
-- ARGV[1] job id   ARGV[2] job JSON   ARGV[3] now ms   ARGV[4] quiet until ms (0 = not quiet)
-- ARGV[5] join a pending digest (1|0)   ARGV[6] rate limit (0 = none)   ARGV[7] window ms
-- ARGV[8] over the limit holds (1) or only counts (0)   ARGV[9] bucket
-- ARGV[10] 'held' record JSON (reason and held_until are added)   ARGV[11] key TTL seconds
-- ARGV[12] deliveries stream max length (approximate)
-- Returns 'send', or why it was held: 'quiet_hours' | 'digest_pending' | 'rate_limit'.
if redis.call('GET', KEYS[1]) ~= 'sending' then
  return 'send'  -- not a fresh claim (e.g. an ops replay): pacing is not asked
end
local now = tonumber(ARGV[3])
local limit = tonumber(ARGV[6])
local window = tonumber(ARGV[7])
local reason, due = nil, nil
if tonumber(ARGV[4]) > 0 then
  reason, due = 'quiet_hours', tonumber(ARGV[4])
elseif ARGV[5] == '1' and redis.call('LLEN', KEYS[4]) > 0 then
  -- Behind messages already held: join them, so nothing overtakes and order is kept.
  reason, due = 'digest_pending', now
elseif limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[7])
  if count >= limit and ARGV[8] == '1' then
    local freeing = redis.call('ZRANGE', KEYS[7], count - limit, count - limit, 'WITHSCORES')
    reason, due = 'rate_limit', tonumber(freeing[2]) + window
  else
    redis.call('ZADD', KEYS[7], now, ARGV[1])
    redis.call('PEXPIRE', KEYS[7], window)
  end
end
if reason == nil then return 'send' end
local ttl = tonumber(ARGV[11])
redis.call('RPUSH', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], reason .. '\n' .. ARGV[2])  -- read back by digests._parse
redis.call('ZADD', KEYS[6], 'NX', due, ARGV[9])
redis.call('SET', KEYS[1], 'held', 'EX', ttl)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
local record = cjson.decode(ARGV[10])
record['reason'] = reason
record['held_until'] = iso(redis.call('ZSCORE', KEYS[6], ARGV[9]))
redis.call('XADD', KEYS[8], 'MAXLEN', '~', tonumber(ARGV[12]), '*', 'payload', cjson.encode(record))
return reason
