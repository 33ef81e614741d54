package io.messagestore.server.runstate;

import io.messagestore.api.v1.RunState;
import io.messagestore.server.config.RunStateSettings;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisScript;
import io.messagestore.server.redis.RedisTier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Run states in Redis: the key layout and the scripts ({@code redis/runstate/*.lua}).
 *
 * <p>A run's keys carry the hash tag of a shard ({@code ms:{s3}:r:<run>:state}, shard =
 * {@code crc32(run_id) mod shards}, the same mapping as threads), so one script touches a run's
 * keys and its shard's set of runs due for a background checkpoint in one Redis Cluster slot.
 * <ul>
 *   <li>{@code ...:state}: the {@link RunState} protobuf, TTL by class (what reads serve, through
 *       the near cache).</li>
 *   <li>{@code ...:meta}: hash {@code v} version, {@code o} owner, {@code t} 1 while PostgreSQL may
 *       hold the newest version, {@code pg} newest version PostgreSQL is known to hold,
 *       {@code c} 1 once completed; same TTL.</li>
 *   <li>{@code ms:{sN}:runs:due}: sorted set, run id by the time its background checkpoint is due.</li>
 * </ul>
 */
final class RunStateCache {
  private static final RedisScript PUT = RedisScript.load("/redis/runstate/put.lua");
  private static final RedisScript RESTORE = RedisScript.load("/redis/runstate/restore.lua");
  private static final RedisScript CLAIM_DUE = RedisScript.load("/redis/runstate/claim-due.lua");
  private static final RedisScript SAVED = RedisScript.load("/redis/runstate/saved.lua");

  private final RedisTier redis;
  private final NearCache nearCache;
  private final RedisKeys keys;
  private final RunStateSettings settings;

  RunStateCache(RedisTier redis, NearCache nearCache, RedisKeys keys, RunStateSettings settings) {
    this.redis = redis;
    this.nearCache = nearCache;
    this.keys = keys;
    this.settings = settings;
  }

  String stateKey(String runId) {
    return prefix(runId) + "state";
  }

  private String metaKey(String runId) {
    return prefix(runId) + "meta";
  }

  private String prefix(String runId) {
    return "ms:{s" + keys.shardOf(runId) + "}:r:" + runId + ":";
  }

  String dueKey(int shard) {
    return "ms:{s" + shard + "}:runs:due";
  }

  int shards() {
    return keys.shards();
  }

  /** How {@link #put} may treat the run. */
  enum Mode {
    /** The run must be in Redis already. */
    EXISTING("0"),
    /** No tier holds the run: the caller creates it. */
    CREATE("1"),
    /** PostgreSQL is not ahead of the version the gateway checked: apply on that version only. */
    CHECKED("2");

    private final byte[] arg;

    Mode(String arg) {
      this.arg = ascii(arg);
    }
  }

  /** One write as {@code put.lua} takes it; {@code state} lacks its version (the script adds it). */
  record Write(String runId, String userId, long expectedVersion, boolean sync, boolean auto, boolean completed,
      Duration ttl, byte[] state) {}

  /** What {@code put.lua} answered. */
  sealed interface Reply {
    record Applied(long version) implements Reply {}

    record NoState() implements Reply {}

    record Denied(String owner) implements Reply {}

    record Conflict(long current) implements Reply {}

    record Completed(long current) implements Reply {}

    /** PostgreSQL may be ahead of Redis's {@code current}, or must be told before Redis alone takes the write. */
    record AskPostgres(long current) implements Reply {}

    /** Another write came between the check of PostgreSQL and this one. */
    record Moved(long current) implements Reply {}
  }

  CompletionStage<Reply> put(Write w, Mode mode, long checkedVersion, long nowMillis) {
    String[] k = {stateKey(w.runId()), metaKey(w.runId()), dueKey(keys.shardOf(w.runId()))};
    byte[][] argv = {
        utf8(w.userId()), mode.arg, ascii(w.expectedVersion()), ascii(checkedVersion), flag(w.sync()),
        ascii(w.ttl().toMillis()), flag(w.completed()), flag(w.auto()), ascii(settings.checkpointEvery()),
        ascii(nowMillis), ascii(settings.checkpointInterval().toMillis()), utf8(w.runId()), w.state()};
    return PUT.run(redis.async(), k, argv).thenApply(reply -> {
      // Before the caller hears of the new version: its next read here must not be an old copy.
      nearCache.invalidate(k[0]);
      return parse(reply);
    });
  }

  /**
   * Puts a version read from a lower tier into Redis unless Redis has it or a newer one.
   *
   * @param tip PostgreSQL holds it as the run's newest version (writes through Redis ask it first)
   * @return whether it was put in
   */
  CompletionStage<Boolean> restore(RunState s, boolean tip, Duration ttl) {
    String[] k = {stateKey(s.getRunId()), metaKey(s.getRunId())};
    return RESTORE.run(redis.async(), k, utf8(s.getUserId()), ascii(s.getVersion()), flag(tip),
            flag(s.getCompleted()), ascii(ttl.toMillis()), s.toByteArray())
        .thenApply(reply -> {
          nearCache.invalidate(k[0]);
          return ((Long) reply.get(0)) == 1L;
        });
  }

  /** Runs of {@code shard} due for a background checkpoint, held for this caller for {@code lease}. */
  CompletionStage<List<String>> claimDue(int shard, long nowMillis, Duration lease, int limit) {
    return CLAIM_DUE.run(redis.async(), new String[] {dueKey(shard)}, ascii(nowMillis), ascii(lease.toMillis()),
        ascii(limit)).thenApply(reply -> {
          List<String> runs = new ArrayList<>(reply.size());
          reply.forEach(r -> runs.add(new String((byte[]) r, StandardCharsets.UTF_8)));
          return runs;
        });
  }

  /** The stored states of runs of one shard (null where a run is gone). */
  CompletionStage<List<byte[]>> states(List<String> runIds) {
    String[] k = runIds.stream().map(this::stateKey).toArray(String[]::new);
    return redis.async().mget(k).thenApply(values -> {
      List<byte[]> out = new ArrayList<>(values.size());
      values.forEach(v -> out.add(v.getValueOrElse(null)));
      return out;
    });
  }

  /** PostgreSQL holds {@code version} now (background checkpoint); the run leaves the due set unless written since. */
  CompletionStage<List<Object>> saved(String runId, long version, long readAtMillis) {
    return SAVED.run(redis.async(), new String[] {metaKey(runId), dueKey(keys.shardOf(runId))}, utf8(runId),
        ascii(version), ascii(readAtMillis), ascii(settings.checkpointInterval().toMillis()),
        ascii(settings.checkpointEvery()));
  }

  private static Reply parse(List<Object> reply) {
    String head = new String((byte[]) reply.get(0), StandardCharsets.UTF_8);
    return switch (head) {
      case "OK" -> new Reply.Applied((Long) reply.get(1));
      case "NOSTATE" -> new Reply.NoState();
      case "DENIED" -> new Reply.Denied(new String((byte[]) reply.get(1), StandardCharsets.UTF_8));
      case "CONFLICT" -> new Reply.Conflict((Long) reply.get(1));
      case "COMPLETED" -> new Reply.Completed((Long) reply.get(1));
      case "PG" -> new Reply.AskPostgres((Long) reply.get(1));
      case "MOVED" -> new Reply.Moved((Long) reply.get(1));
      default -> throw new IllegalStateException("unexpected reply from put.lua: " + head);
    };
  }

  private static byte[] flag(boolean b) {
    return ascii(b ? "1" : "0");
  }

  private static byte[] ascii(long v) {
    return ascii(Long.toString(v));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
