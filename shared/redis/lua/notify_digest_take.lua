-- notify_digest_take.lua: lease the buckets whose digest is due (notifier pacing).
-- Like notify_take_due.lua, each due bucket is pushed one lease into the future rather than
-- removed, so one replica works on it now and, should it die, the bucket falls due again.
-- Times are the notifier's clock (the one the holds were scheduled with).
-- KEYS[1] digest schedule (zset)
-- ARGV[1] now ms   ARGV[2] batch size   ARGV[3] lease ms
-- Returns the leased buckets.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, bucket in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), bucket)
end
return due
