-- dead_letter.lua: move one pending entry to the DLQ and acknowledge it, atomically.
-- KEYS[1] dlq stream   KEYS[2] source stream   KEYS[3] last-errors hash
-- ARGV[1] group  ARGV[2] entry id  ARGV[3] payload JSON of the DLQ record
-- Returns 1 when moved, 0 when the entry was no longer pending (someone else moved it).
local pending = redis.call('XPENDING', KEYS[2], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then return 0 end
redis.call('XADD', KEYS[1], '*', 'payload', ARGV[3])
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return 1
