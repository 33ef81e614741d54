-- Takes the runs of one shard whose background checkpoint is due, and holds them for the caller
-- for a lease (another instance skips them meanwhile; a caller that dies lets the lease run out,
-- and the runs come due again).
--
-- KEYS[1] the shard's due set; ARGV[1] now (ms), ARGV[2] lease ms, ARGV[3] most runs.
-- Returns the run ids.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, run in ipairs(due) do
  redis.call('ZADD', KEYS[1], until_ms, run)
end
return due
