package io.messagestore.server.auth;

import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisMessageWriter.Claim;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.redis.ThreadErasure;
import io.messagestore.server.resilience.TierBreakers;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read, write or delete a thread.
 *
 * <p>A thread has exactly one owner: the user whose first write claimed it. The owner is recorded
 * in PostgreSQL ({@code threads}, written before the thread's first message) and copied into
 * Redis (the owner key), where the send script checks it too ({@code send.lua}: a different
 * owner is {@code DENIED}).
 * <ul>
 *   <li><b>Read</b>: the owner, or an admin. A thread nobody owns reads as empty (NOT_FOUND for a
 *       single message), so probing reveals nothing about other users' threads.</li>
 *   <li><b>Write</b>: the owner only, since messages are stored under their writer's user id. A
 *       thread nobody owns is claimed by its first writer; PostgreSQL decides between racing
 *       claims.</li>
 *   <li><b>Delete</b>: the owner, or an admin.</li>
 * </ul>
 * Anything refused is PERMISSION_DENIED naming the thread and the caller.
 */
public final class ThreadAccess {
  private static final Logger log = LoggerFactory.getLogger(ThreadAccess.class);

  private final RedisTier redis;
  private final RedisValues redisValues;
  private final RedisKeys keys;
  private final PostgresMessageStore postgres;
  private final TierBreakers breakers;
  private final Executor blocking;
  private final ConcurrentHashMap<String, CompletableFuture<Optional<Claim>>> claims = new ConcurrentHashMap<>();

  public ThreadAccess(RedisTier redis, RedisValues redisValues, RedisKeys keys, PostgresMessageStore postgres,
      TierBreakers breakers, Executor blocking) {
    this.redis = redis;
    this.redisValues = redisValues;
    this.keys = keys;
    this.postgres = postgres;
    this.breakers = breakers;
    this.blocking = blocking;
  }

  /** Whether {@code caller} may read a thread that {@code owner} owns. */
  public boolean mayRead(Caller caller, String owner) {
    return owner.equals(caller.userId()) || caller.isAdmin();
  }

  /** Whether {@code caller} may write to a thread that {@code owner} owns. */
  public boolean mayWrite(Caller caller, String owner) {
    return owner.equals(caller.userId());
  }

  /** Whether {@code caller} may delete a thread that {@code owner} owns. */
  public boolean mayDelete(Caller caller, String owner) {
    return mayRead(caller, owner);
  }

  /**
   * Completes when {@code caller} may read the thread; fails with PERMISSION_DENIED when not, or
   * UNAVAILABLE when the owner is in neither Redis nor a PostgreSQL that can be asked.
   */
  public CompletableFuture<Void> checkRead(Caller caller, String threadId) {
    return redisValues.get(keys.owner(threadId))
        .handle((values, e) -> values == null || values[0] == null ? null : new String(values[0], StandardCharsets.UTF_8))
        .thenCompose(owner -> {
          if (owner == null) {
            return checkReadBelowRedis(caller, threadId);
          }
          requireRead(caller, threadId, owner);
          return CompletableFuture.completedFuture(null);
        });
  }

  /** The read check against an owner already read from Redis (with what else the call needed). */
  public void requireRead(Caller caller, String threadId, String owner) {
    if (ThreadErasure.ERASING.equals(owner)) {
      throw new StoreError.NotFound("thread '" + threadId + "' is being deleted");
    }
    if (!mayRead(caller, owner)) {
      throw denied(threadId, caller);
    }
  }

  /**
   * The read check when Redis has no owner key or could not be asked: PostgreSQL decides. An
   * owner found there is put back into Redis, so the next read stays in Redis.
   */
  public CompletableFuture<Void> checkReadBelowRedis(Caller caller, String threadId) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        Optional<String> recorded = breakers.postgresRead().callBlocking(
            () -> postgres.owner(threadId));
        // Redis lost it (flush, restart): put it back so the next read stays in Redis.
        recorded.ifPresent(o -> breakers.redisWrite().call(
            () -> redis.async().setnx(keys.owner(threadId), o.getBytes(StandardCharsets.UTF_8))));
        return recorded;
      } catch (Exception ex) {
        throw breakers.postgresRead().explain(ex, "the owner of thread '" + threadId + "' is not in Redis");
      }
    }, blocking).thenAccept(owner -> owner.ifPresent(o -> requireRead(caller, threadId, o)));
  }

  /**
   * How the Redis store step may claim a thread that has no owner in Redis for {@code caller};
   * empty when another user owns it. One PostgreSQL claim per new thread and user however many
   * sends race for it: a burst of first messages to a thread would otherwise queue one claim
   * each and exhaust the pool.
   */
  public CompletableFuture<Optional<Claim>> claimForWrite(Caller caller, String threadId) {
    String key = threadId + '\0' + caller.userId();
    CompletableFuture<Optional<Claim>> mine = new CompletableFuture<>();
    CompletableFuture<Optional<Claim>> running = claims.putIfAbsent(key, mine);
    if (running != null) {
      return running;
    }
    CompletableFuture.runAsync(() -> {
      try {
        mine.complete(claim(caller, threadId));
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
      } finally {
        claims.remove(key, mine);
      }
    }, blocking);
    return mine;
  }

  /** PostgreSQL away means accept, but not as a new thread: it might have older messages. */
  private Optional<Claim> claim(Caller caller, String threadId) {
    try {
      PostgresMessageStore.ThreadClaim claim = breakers.postgresWrite().callBlocking(
          () -> postgres.claimThread(threadId, caller.userId()));
      if (!mayWrite(caller, claim.owner())) {
        return Optional.empty();
      }
      return Optional.of(claim.created() ? Claim.NEW_THREAD : Claim.EXISTING_THREAD);
    } catch (Exception e) {
      // Ownership is recorded in Redis now and in PostgreSQL by the persister later; refusing new
      // threads while PostgreSQL is down would turn its outage into a write outage.
      log.warn("postgres cannot confirm owner of new thread {}: {}", threadId, e.toString());
      return Optional.of(Claim.EXISTING_THREAD);
    }
  }

  /** What a refused caller is told. */
  public StoreError.Denied denied(String threadId, Caller caller) {
    return new StoreError.Denied(threadId, caller.userId());
  }
}
