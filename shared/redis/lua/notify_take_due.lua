-- notify_take_due.lua: lease the retry jobs that are due (notifier).
-- Each due job is pushed one lease into the future instead of removed, so exactly one
-- replica gets it now and, should that replica die mid-send, it falls due again later.
-- KEYS[1] retry schedule (zset)
-- ARGV[1] batch size   ARGV[2] lease ms
-- Returns the leased job ids.
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
end
return due
