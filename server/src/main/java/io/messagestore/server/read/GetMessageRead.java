package io.messagestore.server.read;

import io.grpc.Context;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GetMessage: the near cache or Redis (owner and message in one MGET), then PostgreSQL, then
 * ClickHouse. Concurrent misses for one message share one lower-tier lookup, and a lower-tier hit
 * is written back to Redis (read-through).
 */
final class GetMessageRead {
  private static final Logger log = LoggerFactory.getLogger(GetMessageRead.class);

  private final RedisTier redis;
  private final NearCache nearCache;
  private final RedisValues redisValues;
  private final RedisKeys keys;
  private final PostgresMessageStore postgres;
  private final ClickHouseMessageStore archive;
  private final TierBreakers breakers;
  private final ThreadAccess access;
  private final Executor blocking;
  private final Duration messageTtl;
  private final Counter postgresLookups;
  private final Counter clickhouseLookups;
  private final ConcurrentHashMap<String, CompletableFuture<Found>> inflightMisses = new ConcurrentHashMap<>();

  GetMessageRead(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      PostgresMessageStore postgres, ClickHouseMessageStore archive, TierBreakers breakers, ThreadAccess access,
      Executor blocking, Duration messageTtl, MeterRegistry meters) {
    this.redis = redis;
    this.nearCache = nearCache;
    this.redisValues = redisValues;
    this.keys = keys;
    this.postgres = postgres;
    this.archive = archive;
    this.breakers = breakers;
    this.access = access;
    this.blocking = blocking;
    this.messageTtl = messageTtl;
    this.postgresLookups = Counter.builder("messagestore.read.lookups").tag("tier", "postgres")
        .description("single-message lookups below Redis (after coalescing)").register(meters);
    this.clickhouseLookups = Counter.builder("messagestore.read.lookups").tag("tier", "clickhouse")
        .description("single-message lookups below Redis (after coalescing)").register(meters);
  }

  /** @param messageId in canonical form */
  CompletableFuture<GetMessageResponse> get(Caller caller, String threadId, String messageId) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    // Owner and message (same slot): copies from the near cache, else one MGET, one round trip
    // with no hop; the stored bytes go out as they are.
    return redisValues.get(tk.owner(), tk.message(messageId))
        .handle((values, e) -> e == null ? values : null)
        .thenCompose(values -> {
          if (values != null && values[0] != null) {
            access.requireRead(caller, threadId, new String(values[0], StandardCharsets.UTF_8));
            if (StoredMessages.plausible(values[1])) {
              return CompletableFuture.completedFuture(StoredMessages.getResponse(values[1], Tier.TIER_REDIS));
            }
            return answerBelowRedis(threadId, messageId);
          }
          // Redis has no owner (or did not answer): the owner comes from below, and the message
          // from what that same MGET found, not from a second read of what it just read.
          byte[] stored = values == null ? null : values[1];
          return access.checkReadBelowRedis(caller, threadId)
              .thenCompose(v -> StoredMessages.plausible(stored)
                  ? CompletableFuture.completedFuture(StoredMessages.getResponse(stored, Tier.TIER_REDIS))
                  : answerBelowRedis(threadId, messageId));
        });
  }

  private CompletableFuture<GetMessageResponse> answerBelowRedis(String threadId, String messageId) {
    return belowRedisCoalesced(threadId, messageId).thenApply(found -> {
      if (found.message() == null) {
        throw new StoreError.NotFound("message " + messageId + " not found in thread '" + threadId + "'");
      }
      return GetMessageResponse.newBuilder().setMessage(found.message()).setServedFrom(found.tier()).build();
    });
  }

  /** A lower-tier lookup's answer: the message and where it was, or a miss (null message). */
  private record Found(Message message, Tier tier) {}

  /**
   * PostgreSQL, then ClickHouse; concurrent misses for one message share the lookup. NOT_FOUND
   * needs every tier to have answered: a tier that could not be asked makes it UNAVAILABLE.
   */
  private CompletableFuture<Found> belowRedisCoalesced(String threadId, String messageId) {
    // Keyed by thread too: a caller may only ever receive a message of the thread it was
    // authorized for, even if it names another thread's message id.
    String key = threadId + '/' + messageId;
    CompletableFuture<Found> mine = new CompletableFuture<>();
    CompletableFuture<Found> shared = inflightMisses.putIfAbsent(key, mine);
    if (shared != null) {
      return shared;
    }
    Context caller = Context.current();
    CompletableFuture.runAsync(() -> {
      try {
        // Shared work: it runs even if the caller that started it went away, since others may
        // be waiting; only a lookup nobody else joined yet is skipped for a cancelled caller.
        if (caller.isCancelled() && mine.getNumberOfDependents() == 0) {
          CallerQueries.checkNotCancelled(caller);
        }
        Found found = belowRedis(threadId, messageId);
        if (found.message() != null) {
          // Answered once Redis holds the message (so the caller's next read hits), without
          // holding this thread; joinable until every later read is sure to hit (see refill).
          refill(found.message(), () -> mine.complete(found))
              .whenComplete((v, e) -> inflightMisses.remove(key, mine));
          return;
        }
        mine.complete(found);
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
      }
      inflightMisses.remove(key, mine);
    }, blocking);
    return mine;
  }

  private Found belowRedis(String threadId, String messageId) {
    Exception postgresFailure = null;
    try {
      postgresLookups.increment();
      Optional<Message> m = breakers.postgresRead().callBlocking(
          () -> postgres.find(threadId, messageId));
      if (m.isPresent()) {
        return new Found(m.get(), Tier.TIER_POSTGRES);
      }
    } catch (Exception e) {
      postgresFailure = e;
    }
    try {
      clickhouseLookups.increment();
      Optional<Message> m = breakers.clickhouseRead().callBlocking(
          () -> archive.find(threadId, messageId));
      if (m.isPresent()) {
        return new Found(m.get(), Tier.TIER_CLICKHOUSE);
      }
    } catch (Exception e) {
      throw breakers.clickhouseRead().explain(e, postgresFailure == null
          ? "message " + messageId + " is not in PostgreSQL"
          : "postgres is unavailable too (" + GuardedCall.unwrap(postgresFailure).getMessage() + ")");
    }
    if (postgresFailure != null) {
      throw breakers.postgresRead().explain(postgresFailure,
          "message " + messageId + " is not in Redis or the archive");
    }
    return new Found(null, null);
  }

  /**
   * Read-through: puts a lower-tier hit back into Redis, runs {@code stored} once Redis has
   * taken it (or could not), then waits for every connection that carries message reads to
   * answer what was sent on it before ({@link NearCache#barrier}). Until that completes the
   * shared lookup stays joinable, which closes the coalescing window exactly: a GET that Redis
   * ran before the refill missed, and its reply (which joins the answered lookup) is handled
   * before the barrier completes; a GET that Redis runs after the refill hits. Nothing here
   * blocks a thread.
   */
  private CompletableFuture<Void> refill(Message m, Runnable stored) {
    // Through the write breaker: with Redis down, a refill must cost nothing.
    CompletableFuture<String> put = breakers.redisWrite().call(() -> redis.async()
        .psetex(keys.message(m.getThreadId(), m.getMessageId()), messageTtl.toMillis(), m.toByteArray()));
    return put.orTimeout(redis.commandTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((v, e) -> stored.run())
        .thenCompose(ok -> nearCache.barrier())
        .orTimeout(redis.commandTimeout().toMillis() * 2, TimeUnit.MILLISECONDS)
        .whenComplete((v, e) -> {
          if (e != null) {
            log.debug("read-through refill skipped: {}", e.toString());
          }
        });
  }
}
