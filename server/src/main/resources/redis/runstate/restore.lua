-- Puts a run's state read from PostgreSQL or ClickHouse into Redis, unless Redis holds that
-- version or a newer one already: a newer version always wins, so restores that race with each
-- other or with writes cannot take a run back.
--
-- KEYS[1] state, KEYS[2] meta (see put.lua);
-- ARGV[1] owner, ARGV[2] version, ARGV[3] "1" when PostgreSQL holds it as the tip (a write
-- through Redis must then ask PostgreSQL first), ARGV[4] "1" when completed, ARGV[5] ttl ms,
-- ARGV[6] the RunState protobuf.
--
-- Returns 1 when it was put in, 0 when Redis had it or something newer.
local v = tonumber(redis.call('HGET', KEYS[2], 'v'))
local version = tonumber(ARGV[2])
if v and v >= version then
  return 0
end
redis.call('SET', KEYS[1], ARGV[6], 'PX', ARGV[5])
redis.call('HSET', KEYS[2], 'v', version, 'o', ARGV[1], 't', ARGV[3], 'pg', version, 'c', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
