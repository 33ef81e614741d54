package io.messagestore.server.write;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.ThreadDeleted;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.persistence.StreamPersister;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.ThreadErasures;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.ThreadErasure;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DeleteThread: erases a thread from every tier, as an erasure request (GDPR) needs it.
 *
 * <ol>
 *   <li>The owner or an admin only ({@link ThreadAccess#mayDelete}).
 *   <li>Redis fences the thread: its owner key holds {@link ThreadErasure#ERASING}, so every send
 *       to it is refused ("being deleted") and nothing new reaches it while it is erased.
 *   <li>What Redis holds of it is found (recent index, unpersisted stream entries, dead letters);
 *       the erasure's bound is the highest of those ids and a fresh id, so every message
 *       acknowledged before the fence is at or below it.
 *   <li>PostgreSQL erases it in one transaction ({@link ThreadErasures}): messages, queued
 *       analytics rows, repair mark, thread row, an audit record, and the bound, which keeps
 *       persisters, failover writes and the archiver from ever storing those messages again.
 *   <li>Redis drops the message copies, the index, the stream entries (acknowledged for the
 *       persisters) and the dead letters; other instances' near-cache copies go with Redis's
 *       invalidations. Then the fence is lifted: the thread id may be claimed again.
 *   <li>Watchers of the thread, on every instance, get THREAD_DELETED ({@link ThreadDeleted}).
 *   <li>ClickHouse (archive and analytics rows) is erased by background mutations, tracked in
 *       PostgreSQL until they have run ({@code Archiver}).
 * </ol>
 * The answer comes once Redis and PostgreSQL are clean. A deletion cut short (the gateway died)
 * leaves the fence to expire; repeating the call finishes it.
 */
public final class ThreadDeletion {
  private static final Logger log = LoggerFactory.getLogger(ThreadDeletion.class);
  /** How long a fence outlives an eraser that died; long enough for a big thread's erasure. */
  static final Duration FENCE = Duration.ofMinutes(2);

  private final RedisTier redis;
  private final RedisKeys keys;
  private final ThreadErasure redisErasure;
  private final ThreadErasures postgresErasure;
  private final PostgresMessageStore messages;
  private final ThreadAccess access;
  private final MessageIdGenerator ids;
  private final Executor blocking;
  private final ClusterEvents events;

  public ThreadDeletion(RedisTier redis, RedisKeys keys, ThreadErasures postgresErasure, PostgresMessageStore messages,
      ThreadAccess access, MessageIdGenerator ids, Executor blocking, ClusterEvents events) {
    this.redis = redis;
    this.keys = keys;
    this.redisErasure = new ThreadErasure(keys);
    this.postgresErasure = postgresErasure;
    this.messages = messages;
    this.access = access;
    this.ids = ids;
    this.blocking = blocking;
    this.events = events;
  }

  /** Erases the thread; completes with the number of messages removed. */
  public CompletableFuture<Long> delete(Caller caller, String threadId) {
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    return CompletableFuture.supplyAsync(() -> erase(caller, threadId), blocking);
  }

  private long erase(Caller caller, String threadId) {
    StatefulRedisConnection<String, byte[]> connection;
    try {
      connection = redis.dedicatedConnection(FENCE.dividedBy(4));
    } catch (RuntimeException e) {
      throw unavailable("redis", e, "nothing was deleted");
    }
    try (connection) {
      RedisCommands<String, byte[]> cmd = connection.sync();
      String owner = owner(cmd, threadId);
      if (!access.mayDelete(caller, owner)) {
        throw access.denied(threadId, caller);
      }
      Set<String> found;
      ThreadErasure.Found inRedis;
      try {
        redisErasure.fence(cmd, threadId, FENCE);
        inRedis = redisErasure.find(cmd, threadId);
        found = new TreeSet<>(inRedis.messageIds());
      } catch (RuntimeException e) {
        throw unavailable("redis", e, "nothing was deleted");
      }
      String fresh = ids.next().toString();
      String erasedThrough = found.isEmpty() || fresh.compareTo(((TreeSet<String>) found).last()) > 0
          ? fresh : ((TreeSet<String>) found).last();
      ThreadErasures.Erased erased;
      try {
        erased = postgresErasure.erase(threadId, erasedThrough, caller.userId(), found);
      } catch (Exception e) {
        liftQuietly(cmd, threadId);
        throw unavailable("postgres", e, "nothing was deleted");
      }
      Set<String> all = new TreeSet<>(found);
      all.addAll(erased.messageIds());
      try {
        redisErasure.remove(cmd, threadId, all, inRedis, StreamPersister.GROUP);
        cmd.del(keys.userThreads(owner));
        redisErasure.unfence(cmd, threadId);
      } catch (RuntimeException e) {
        throw new StoreError.TierUnavailable("redis unavailable while deleting thread '" + threadId
            + "': PostgreSQL is clean, Redis is not yet; repeat DeleteThread to finish (" + StoreError.describe(e) + ")",
            Stored.MAYBE, e);
      }
      events.publish(new ThreadDeleted(threadId));
      long deleted = all.size() + erased.archivedMessages();
      log.info("thread {} of {} deleted by {}: {} messages", threadId, owner, caller.userId(), deleted);
      return deleted;
    }
  }

  /** The owner, from Redis, else PostgreSQL, else (a deletion cut short) the last erasure's record. */
  private String owner(RedisCommands<String, byte[]> cmd, String threadId) {
    Optional<String> inRedis;
    try {
      inRedis = redisErasure.owner(cmd, threadId);
    } catch (RuntimeException e) {
      throw unavailable("redis", e, "nothing was deleted");
    }
    if (inRedis.isPresent() && !inRedis.get().equals(ThreadErasure.ERASING)) {
      return inRedis.get();
    }
    try {
      Optional<String> recorded = messages.owner(threadId);
      if (recorded.isEmpty() && inRedis.isPresent()) {
        recorded = postgresErasure.lastErasedOwner(threadId);
      }
      return recorded.orElseThrow(() -> new StoreError.NotFound("thread '" + threadId + "' not found"));
    } catch (StoreError e) {
      throw e;
    } catch (Exception e) {
      throw unavailable("postgres", e, "nothing was deleted");
    }
  }

  private void liftQuietly(RedisCommands<String, byte[]> cmd, String threadId) {
    try {
      redisErasure.unfence(cmd, threadId);
    } catch (RuntimeException e) {
      log.debug("fence of {} left to expire: {}", threadId, e.toString());
    }
  }

  private static StoreError unavailable(String tier, Exception e, String outcome) {
    return new StoreError.TierUnavailable(tier + " unavailable, and DeleteThread needs Redis and PostgreSQL; "
        + outcome + " (" + StoreError.describe(e) + ")", Stored.NOTHING, e);
  }
}
