-- Compare-and-set of one agent run's state: ownership, completion, expected version, the next
-- version, the state and the background-checkpoint bookkeeping, atomically, all or nothing.
--
-- KEYS[1] state (the RunState protobuf), KEYS[2] meta (hash: v version, o owner, t 1 while
-- PostgreSQL may hold the newest version, pg newest version PostgreSQL is known to hold,
-- c 1 once completed), KEYS[3] the shard's set of runs due for a background checkpoint.
-- ARGV[1] user id, ARGV[2] mode: "0" the run must exist, "1" the caller may create it (no tier
-- holds it), "2" PostgreSQL was told and is not ahead of ARGV[4]: apply on that version only;
-- ARGV[3] expected version (0: any), ARGV[4] the version the gateway checked in mode 2,
-- ARGV[5] "1" when the write is checkpointed synchronously, ARGV[6] ttl ms, ARGV[7] "1" when
-- completed, ARGV[8] "1" for CHECKPOINT_AUTO, ARGV[9] versions per background checkpoint,
-- ARGV[10] now (ms), ARGV[11] checkpoint interval ms, ARGV[12] run id, ARGV[13] the state as a
-- RunState protobuf without its version, which this script appends (a protobuf field may come
-- anywhere, so the gateway need not know the version before the compare-and-set).
--
-- Returns {"OK", version}, {"NOSTATE"}, {"DENIED", owner}, {"CONFLICT", version},
-- {"COMPLETED", version}, {"PG", version} (PostgreSQL may be ahead, or must be told before a
-- write to Redis alone: see RunStateWrites), {"MOVED", version} (mode 2, another write came first).
local meta = redis.call('HMGET', KEYS[2], 'v', 'o', 't', 'pg', 'c')
local v = tonumber(meta[1])
local mode = ARGV[2]
if not v then
  if mode ~= '1' then
    return {'NOSTATE'}
  end
  v = 0
  meta = {'0', ARGV[1], '0', '0', '0'}
end
if meta[2] ~= ARGV[1] then
  return {'DENIED', meta[2]}
end
if meta[5] == '1' then
  return {'COMPLETED', v}
end
if mode == '2' then
  if v ~= tonumber(ARGV[4]) then
    return {'MOVED', v}
  end
elseif meta[3] ~= '0' then
  -- Before the expected version is compared: PostgreSQL may hold a newer one.
  return {'PG', v}
end
local expected = tonumber(ARGV[3])
if expected ~= 0 and expected ~= v then
  return {'CONFLICT', v}
end

local nv = v + 1
-- field 4 (version), varint: numbers are exact up to 2^53 in Redis's Lua
local bytes = {string.char(0x20)}
local n = nv
while n >= 128 do
  bytes[#bytes + 1] = string.char(n % 128 + 128)
  n = math.floor(n / 128)
end
bytes[#bytes + 1] = string.char(n)
redis.call('SET', KEYS[1], ARGV[13] .. table.concat(bytes), 'PX', ARGV[6])
local pg = tonumber(meta[4]) or 0
if ARGV[5] == '1' then
  pg = nv
end
redis.call('HSET', KEYS[2], 'v', nv, 'o', ARGV[1], 't', ARGV[5], 'pg', pg, 'c', ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local now = tonumber(ARGV[10])
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[3], now, ARGV[12])
elseif ARGV[8] == '1' and nv - pg >= tonumber(ARGV[9]) then
  redis.call('ZADD', KEYS[3], now, ARGV[12])
elseif ARGV[8] == '1' or ARGV[5] == '1' then
  -- The clock starts at the first write PostgreSQL lacks; a synchronous write is saved again in
  -- the background in case its checkpoint failed (a no-op when it did not).
  redis.call('ZADD', KEYS[3], 'NX', now + tonumber(ARGV[11]), ARGV[12])
end
return {'OK', nv}
