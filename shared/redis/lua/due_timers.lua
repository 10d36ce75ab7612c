-- due_timers.lua: read the Redis clock and lease the timers due by it, in one round trip (router).
-- Each timer taken is re-scored to now + lease, so the other replicas polling meanwhile take
-- the next ones instead of deciding the same timers again; the commit that applies a timer
-- claims (removes) it (commit_many.lua), so even a timer whose lease ran out while its
-- caller was slow (or killed) fires once: the first commit wins, the other finds it gone.
-- A lease's score ends in .5 (due times are whole ms): the router tells a leased timer
-- from one due later (services/router/firing.py).  A timer taken again after its lease ran
-- out reports the lease's end as its due time, so its lateness is counted from there.
-- KEYS[1] timers zset   ARGV[1] batch size   ARGV[2] lease in ms
-- Returns {now_ms, member, due_ms, member, due_ms, …} (earliest first; the due time as it
-- was before the lease).
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  local until_ms = string.format('%d.5', now + tonumber(ARGV[2]))
  local leased = {}
  for i = 1, #due, 2 do
    leased[#leased + 1] = until_ms
    leased[#leased + 1] = due[i]
  end
  redis.call('ZADD', KEYS[1], 'XX', unpack(leased))
end
table.insert(due, 1, now)
return due
