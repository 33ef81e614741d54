-- Deletes from a shard's persisters group the consumers that gateway instances left behind
-- when they stopped or died: those with no pending entries, idle longer than ARGV[2] ms, other
-- than the caller. One script, so that no read can hand such a consumer an entry between the
-- check and the delete: XGROUP DELCONSUMER drops a consumer's pending entries, and an entry
-- delivered to it and dropped would never be read by the group again. (A consumer that still
-- has pending entries stays until another instance has claimed them.)
--
-- KEYS[1] the shard's stream
-- ARGV[1] the consumer group, ARGV[2] idle time in ms, ARGV[3] the caller's consumer name
--
-- Returns the names of the consumers deleted.
local deleted = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local field = {}
  for i = 1, #consumer, 2 do
    field[consumer[i]] = consumer[i + 1]
  end
  if field['name'] ~= ARGV[3] and field['pending'] == 0 and field['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], field['name'])
    deleted[#deleted + 1] = field['name']
  end
end
return deleted
