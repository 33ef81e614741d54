-- Stores one or more messages of one thread atomically: ownership, idempotency, backlog bound,
-- message keys, recent index and persistence stream entry, all or nothing.
--
-- KEYS[1] owner key, KEYS[2] recent index, KEYS[3] shard stream,
-- then per message i: KEYS[2+2i] message key, KEYS[3+2i] idempotency key (the message key again
-- when there is none: every key must hash to the thread's slot, so no empty placeholder)
-- ARGV[1] user id, ARGV[2] message ttl ms, ARGV[3] idempotency ttl ms, ARGV[4] max stream length,
-- ARGV[5] "1" when the caller may claim an unowned thread, "2" when it may and PostgreSQL has
-- just created the thread for it, ARGV[6] message key prefix,
-- ARGV[7] "1" when the caller waits for the PostgreSQL commit (durable),
-- ARGV[8] the thread's watch channel (ThreadChannel),
-- then per message i: ARGV[6+3i] id, ARGV[7+3i] message bytes,
-- ARGV[8+3i] the message's idempotency key, empty when it has none
--
-- Returns {"OK", s1, id1, b1, s2, id2, b2, ...} with s = "N" (stored) or "D" (duplicate of id, with
-- the first message's bytes when Redis still has them), or {"NOOWNER"}, {"DENIED", owner},
-- {"BACKLOG", length}, {"BEHIND", newest id}.
--
-- A thread's ids grow in the order Redis accepts its messages: a new id at or below the newest
-- in the index (another instance minted it a moment earlier, or its clock is behind) is refused
-- with BEHIND, and the caller mints ids above that one. So a reader that has seen a thread up to
-- some id never finds an older message appear later (WatchThread resumes on this), and every
-- acceptance is announced on the watch channel with the id before it, so that a watcher can tell
-- a missed announcement from the next one.
--
-- THREAD_START is the recent index's thread-start marker, defined by RecentIndex (prepended).
local owner = redis.call('GET', KEYS[1])
if not owner then
  if ARGV[5] == '0' then
    return {'NOOWNER'}
  end
elseif owner ~= ARGV[1] then
  return {'DENIED', owner}
end

local n = (#KEYS - 3) / 2
local out = {'OK'}
local fresh = {}
local seen = {}
for i = 1, n do
  local idem = KEYS[3 + 2 * i]
  local hasIdem = ARGV[8 + 3 * i] ~= ''
  local dup = nil
  if hasIdem then
    dup = seen[idem] or redis.call('GET', idem)
  end
  if dup then
    out[#out + 1] = 'D'
    out[#out + 1] = dup
    out[#out + 1] = redis.call('GET', ARGV[6] .. dup) or ''
  else
    fresh[#fresh + 1] = i
    if hasIdem then
      seen[idem] = ARGV[6 + 3 * i]
    end
    out[#out + 1] = 'N'
    out[#out + 1] = ARGV[6 + 3 * i]
    out[#out + 1] = ''
  end
end

local newest = nil
if #fresh > 0 then
  local backlog = redis.call('XLEN', KEYS[3])
  if backlog + #fresh > tonumber(ARGV[4]) then
    return {'BACKLOG', tostring(backlog)}
  end
  newest = redis.call('ZRANGE', KEYS[2], -1, -1)[1]
  if newest and newest ~= THREAD_START and ARGV[6 + 3 * fresh[1]] <= newest then
    return {'BEHIND', newest}
  end
end

for _, i in ipairs(fresh) do
  local id = ARGV[6 + 3 * i]
  local bytes = ARGV[7 + 3 * i]
  redis.call('SET', KEYS[2 + 2 * i], bytes, 'PX', ARGV[2])
  redis.call('ZADD', KEYS[2], 0, id)
  local key = ARGV[8 + 3 * i]
  -- The entry carries the idempotency key so that PostgreSQL learns it too (a retry while Redis
  -- is down is then recognised there), and 'd' when someone waits for the commit: persisters
  -- announce commits only for those.
  if key ~= '' and ARGV[7] == '1' then
    redis.call('XADD', KEYS[3], '*', 'm', bytes, 'k', key, 'd', '1')
  elseif key ~= '' then
    redis.call('XADD', KEYS[3], '*', 'm', bytes, 'k', key)
  elseif ARGV[7] == '1' then
    redis.call('XADD', KEYS[3], '*', 'm', bytes, 'd', '1')
  else
    redis.call('XADD', KEYS[3], '*', 'm', bytes)
  end
  if key ~= '' then
    redis.call('SET', KEYS[3 + 2 * i], id, 'PX', ARGV[3])
  end
  -- 'C', the previous id (36 characters, '-' when the index did not know it), the message.
  local previous = newest
  if not previous or previous == THREAD_START then
    previous = string.rep('-', 36)
  end
  redis.call('PUBLISH', ARGV[8], 'C' .. previous .. bytes)
  newest = id
end

if #fresh > 0 then
  if not owner then
    redis.call('SET', KEYS[1], ARGV[1])
    if ARGV[5] == '2' then
      -- The thread's first message: the index holds the whole thread (RecentIndex). The marker
      -- sorts before every id, so it is the first to go when the persisters trim the index, and
      -- it expires with the index: while it is there, a short page from the index is complete.
      redis.call('ZADD', KEYS[2], 0, THREAD_START)
    end
  end
  -- Trimming the index to the recent window is the persisters' job: only they know which
  -- messages are safely in PostgreSQL, and an unpersisted message must stay listable.
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return out
