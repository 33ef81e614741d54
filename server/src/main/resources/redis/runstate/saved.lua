-- Records a background checkpoint of a run: PostgreSQL holds version ARGV[2] now. The run leaves
-- the due set unless it was written again meanwhile; then it comes due by the policy again,
-- counted from when the checkpoint's copy was read (no later write is older than that).
--
-- KEYS[1] meta (see put.lua), KEYS[2] the shard's due set;
-- ARGV[1] run id, ARGV[2] version saved, ARGV[3] when it was read (ms), ARGV[4] interval ms,
-- ARGV[5] versions per checkpoint.
local meta = redis.call('HMGET', KEYS[1], 'v', 'pg')
local v = tonumber(meta[1])
if not v then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local pg = math.max(tonumber(meta[2]) or 0, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'pg', pg)
if v <= pg then
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif v - pg >= tonumber(ARGV[5]) then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
else
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
end
return 1
