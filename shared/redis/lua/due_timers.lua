-- due_timers.lua: read the Redis clock and the timers due by it, in one round trip (router).
-- Read-only: the commit that applies a timer also claims it (commit.lua), so two replicas
-- reading the same due timer cannot both fire it.
-- KEYS[1] timers zset   ARGV[1] batch size
-- Returns {now_ms, member, score, member, score, …} (earliest first).
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
table.insert(due, 1, now)
return due
