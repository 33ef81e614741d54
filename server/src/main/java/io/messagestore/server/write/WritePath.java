package io.messagestore.server.write;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.persistence.PersistenceWaiters;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.redis.RedisMessageWriter;
import io.messagestore.server.redis.RedisMessageWriter.Claim;
import io.messagestore.server.redis.StoreResult;
import io.messagestore.server.redis.ThreadErasure;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SendMessage and SendMessageBatch: Redis first, PostgreSQL when Redis cannot take the write.
 *
 * <p>The fast path is one Lua script call and nothing else on the caller's path. A durable send
 * additionally waits for the persister's commit of its message (group commit). When Redis fails
 * or its breaker is open, the messages go into PostgreSQL before the answer, group-committed
 * with concurrent failover writes ({@link FailoverWrite}), and a batch is stored whole or not at
 * all there too. Redis keeps a
 * thread's ids in acceptance order: ids it refuses as behind the thread's newest are minted
 * again above it.
 */
public final class WritePath {
  private static final Logger log = LoggerFactory.getLogger(WritePath.class);
  public static final String REDIS_UNAVAILABLE = "redis_unavailable";
  public static final int MAX_BATCH = 500;
  private static final Duration DUPLICATE_RECHECK = Duration.ofMillis(100);
  /** Refusals as behind are rare (two instances minting ids for one thread in one millisecond). */
  private static final int MAX_REMINTS = 5;

  private final RedisMessageWriter redis;
  private final PostgresMessageStore postgres;
  private final TierBreakers breakers;
  private final PersistenceWaiters waiters;
  private final MessageIdGenerator ids;
  private final SendRequestValidator validator;
  private final Executor blocking;
  private final Duration durableTimeout;
  private final FailoverWrite failover;
  private final FailoverRepair repairs;
  private final ThreadAccess access;

  public WritePath(RedisMessageWriter redis, PostgresMessageStore postgres, TierBreakers breakers,
      PersistenceWaiters waiters, MessageIdGenerator ids, SendRequestValidator validator, Executor blocking,
      Duration durableTimeout, FailoverWrite failover, FailoverRepair repairs, ThreadAccess access) {
    this.redis = redis;
    this.access = access;
    this.postgres = postgres;
    this.breakers = breakers;
    this.waiters = waiters;
    this.ids = ids;
    this.validator = validator;
    this.blocking = blocking;
    this.durableTimeout = durableTimeout;
    this.repairs = repairs;
    this.failover = failover;
  }

  /** One message. */
  public CompletableFuture<SendMessageResponse> send(Caller caller, SendMessageRequest request, Duration timeLeft) {
    validator.check(request, "");
    return store(caller, request.getThreadId(), List.of(request), request.getDurability(), timeLeft)
        .thenApply(list -> list.get(0));
  }

  /** Up to {@value #MAX_BATCH} messages of one thread, all stored or none. */
  public CompletableFuture<List<SendMessageResponse>> sendBatch(Caller caller, String threadId,
      List<SendMessageRequest> requests, Durability durability, Duration timeLeft) {
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    if (requests.isEmpty()) {
      throw SendRequestValidator.invalid("messages must not be empty");
    }
    if (requests.size() > MAX_BATCH) {
      throw SendRequestValidator.invalid("messages has " + requests.size() + " entries; the maximum is " + MAX_BATCH);
    }
    List<SendMessageRequest> normalized = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      SendMessageRequest r = requests.get(i);
      if (!r.getThreadId().isEmpty() && !r.getThreadId().equals(threadId)) {
        throw SendRequestValidator.invalid("messages[" + i + "].thread_id is '" + r.getThreadId()
            + "' but the batch is for thread '" + threadId + "'");
      }
      SendMessageRequest n = r.toBuilder().setThreadId(threadId).build();
      validator.check(n, "messages[" + i + "].");
      normalized.add(n);
    }
    return store(caller, threadId, normalized, durability, timeLeft);
  }

  private CompletableFuture<List<SendMessageResponse>> store(Caller caller, String threadId,
      List<SendMessageRequest> requests, Durability durability, Duration timeLeft) {
    return store(caller, threadId, requests, durability, timeLeft, null, MAX_REMINTS);
  }

  /**
   * @param floor the thread's newest id when Redis refused ids below it ({@link
   *     StoreResult.Behind}), else null
   * @param remints how many more times Redis may refuse the ids as behind
   */
  private CompletableFuture<List<SendMessageResponse>> store(Caller caller, String threadId,
      List<SendMessageRequest> requests, Durability durability, Duration timeLeft, UUID floor, int remints) {
    List<Message> messages = new ArrayList<>(requests.size());
    List<RedisMessageWriter.Pending> pending = new ArrayList<>(requests.size());
    for (SendMessageRequest r : requests) {
      UUID id = floor == null || !messages.isEmpty() ? ids.next() : ids.nextAfter(floor);
      long ms = MessageIdGenerator.millisOf(id);
      Message m = Message.newBuilder()
          .setMessageId(id.toString())
          .setThreadId(threadId)
          .setUserId(caller.userId())
          .setRole(r.getRole())
          .setContent(r.getContent())
          .putAllMetadata(r.getMetadataMap())
          .setCreatedAt(Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000))
          .build();
      messages.add(m);
      pending.add(new RedisMessageWriter.Pending(m.getMessageId(), m.toByteArray(), r.getIdempotencyKey()));
    }
    boolean durable = durability == Durability.DURABILITY_DURABLE;
    Map<String, CompletableFuture<Void>> commits = new HashMap<>();
    if (durable) {
      // Before the write: the commit may come before the script's reply does, and the waiter
      // is removed when it fires, so these futures are the ones to wait on.
      messages.forEach(m -> commits.put(m.getMessageId(), waiters.register(m.getMessageId())));
    }
    Duration waitLimit = timeLeft == null || timeLeft.compareTo(durableTimeout) > 0 ? durableTimeout : timeLeft;
    CompletableFuture<List<SendMessageResponse>> result = repairedIfKeyed(threadId, requests)
        .thenCompose(ready -> toRedis(caller, threadId, messages, pending, Claim.NOT_ALLOWED, durable))
        .thenCompose(stored -> durable ? awaitCommit(stored, commits, messages, waitLimit)
            : CompletableFuture.completedFuture(stored))
        .exceptionallyCompose(e -> {
          Throwable cause = GuardedCall.unwrap(e);
          if (cause instanceof IdsBehind behind) {
            if (remints == 0) {
              return CompletableFuture.failedFuture(new StoreError.TierUnavailable("thread '" + threadId
                  + "' is written too fast from several instances to order this send; nothing was stored, retry",
                  Stored.NOTHING));
            }
            return store(caller, threadId, requests, durability, timeLeft, behind.newest, remints - 1);
          }
          // An answer (denied, backlog full, stored but not durable in time) is final; anything
          // else means Redis could not take the write.
          if (cause instanceof StoreError) {
            return CompletableFuture.failedFuture(cause);
          }
          return failover.store(caller, threadId, messages, requests, cause);
        });
    if (durable) {
      result.whenComplete((r, e) -> messages.forEach(m -> waiters.forget(m.getMessageId())));
    }
    return result;
  }

  /**
   * Done at once, but for a send with an idempotency key to a thread written during a Redis
   * outage whose Redis state is not repaired yet: the keys of those failover writes are only in
   * PostgreSQL then, and a retry of one of them would be stored again. The thread is repaired
   * first (the keys go into Redis); should that fail, the send goes on, and fails over to
   * PostgreSQL, where the key is checked, if Redis is what failed.
   */
  private CompletableFuture<Void> repairedIfKeyed(String threadId, List<SendMessageRequest> requests) {
    if (repairs.recentIndexComplete(threadId)
        || requests.stream().allMatch(r -> r.getIdempotencyKey().isEmpty())
        // Only a look: the send's own call through the breaker is the one that counts.
        || !breakers.redisWrite().wouldPermit()) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(() -> {
      try {
        repairs.repairNow(threadId);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        log.debug("repair of thread {} before a keyed send failed: {}", threadId, e.toString());
      }
    }, blocking);
  }

  private CompletableFuture<List<SendMessageResponse>> toRedis(Caller caller, String threadId, List<Message> messages,
      List<RedisMessageWriter.Pending> pending, Claim claim, boolean durable) {
    // The reply arrives on the event loop that sent the script, the one serving this call: the
    // answer is built right there, without a thread hop.
    return breakers.redisWrite().call(
            () -> redis.store(threadId, caller.userId(), pending, claim, durable))
        .thenCompose(result -> {
          if (result instanceof StoreResult.Stored stored) {
            return answer(threadId, messages, stored);
          }
          if (result instanceof StoreResult.Denied denied) {
            return CompletableFuture.failedFuture(ThreadErasure.ERASING.equals(denied.owner())
                ? new StoreError.TierUnavailable("thread '" + threadId + "' is being deleted; nothing was stored, "
                    + "retry once DeleteThread has answered (the thread id can then be used again)", Stored.NOTHING)
                : access.denied(threadId, caller));
          }
          if (result instanceof StoreResult.Behind behind) {
            return CompletableFuture.failedFuture(new IdsBehind(UUID.fromString(behind.newestId())));
          }
          if (result instanceof StoreResult.BacklogFull full) {
            return CompletableFuture.failedFuture(new StoreError.Exhausted(
                "persistence backlog is full (" + full.backlog() + " entries waiting for PostgreSQL in this "
                    + "thread's shard); nothing was stored, retry later"));
          }
          // No owner in Redis: a new thread, or Redis lost its keys. PostgreSQL decides.
          return access.claimForWrite(caller, threadId)
              .thenCompose(granted -> granted.isPresent()
                  ? toRedis(caller, threadId, messages, pending, granted.get(), durable)
                  : CompletableFuture.failedFuture(access.denied(threadId, caller)));
        });
  }

  private CompletableFuture<List<SendMessageResponse>> answer(String threadId, List<Message> messages,
      StoreResult.Stored stored) {
    List<SendMessageResponse> out = new ArrayList<>(messages.size());
    Map<String, Message> own = new HashMap<>();
    messages.forEach(m -> own.put(m.getMessageId(), m));
    boolean needsLookup = false;
    for (int i = 0; i < messages.size(); i++) {
      StoreResult.Entry e = stored.entries().get(i);
      if (!e.duplicate()) {
        out.add(SendMessageResponse.newBuilder().setMessage(messages.get(i)).setAcknowledgedBy(Tier.TIER_REDIS).build());
        continue;
      }
      Message first = own.get(e.messageId());
      if (first == null && e.firstMessage().length > 0) {
        try {
          first = Message.parseFrom(e.firstMessage());
        } catch (InvalidProtocolBufferException ex) {
          first = null;
        }
      }
      SendMessageResponse.Builder b = SendMessageResponse.newBuilder().setAcknowledgedBy(Tier.TIER_REDIS).setDuplicate(true);
      if (first != null) {
        b.setMessage(first);
      } else {
        needsLookup = true;
        b.setMessage(Message.newBuilder().setMessageId(e.messageId()).setThreadId(threadId));
      }
      out.add(b.build());
    }
    if (!needsLookup) {
      return CompletableFuture.completedFuture(out);
    }
    // The first copy expired from Redis (its idempotency key lives longer): read it back.
    return CompletableFuture.supplyAsync(() -> {
      List<SendMessageResponse> filled = new ArrayList<>(out.size());
      for (SendMessageResponse r : out) {
        if (r.getDuplicate() && r.getMessage().getContent().isEmpty()) {
          try {
            Optional<Message> m = postgres.find(threadId, r.getMessage().getMessageId());
            filled.add(m.map(x -> r.toBuilder().setMessage(x).build()).orElse(r));
          } catch (Exception ex) {
            filled.add(r);
          }
        } else {
          filled.add(r);
        }
      }
      return filled;
    }, blocking);
  }

  private CompletableFuture<List<SendMessageResponse>> awaitCommit(List<SendMessageResponse> stored,
      Map<String, CompletableFuture<Void>> registered, List<Message> messages, Duration limit) {
    List<CompletableFuture<Void>> commits = new ArrayList<>();
    List<String> duplicates = new ArrayList<>();
    for (SendMessageResponse r : stored) {
      String id = r.getMessage().getMessageId();
      CompletableFuture<Void> own = registered.get(id);
      if (own != null && !r.getDuplicate()) {
        commits.add(own);
      } else {
        commits.add(waiters.register(id));
        duplicates.add(id);
      }
    }
    if (!duplicates.isEmpty()) {
      // A duplicate's first copy may have been committed long ago, or by another instance
      // without an announcement (it was not a durable send): look in PostgreSQL until found.
      checkCommitted(duplicates, System.nanoTime() + limit.toNanos());
    }
    return CompletableFuture.allOf(commits.toArray(new CompletableFuture[0]))
        .orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS)
        .handle((v, e) -> {
          stored.forEach(r -> waiters.forget(r.getMessage().getMessageId()));
          if (e != null) {
            Throwable cause = GuardedCall.unwrap(e);
            String desc = cause instanceof TimeoutException
                ? "message(s) stored in Redis (first id " + messages.get(0).getMessageId() + ") but not committed to "
                    + "PostgreSQL within " + limit.toMillis() + " ms; they will be persisted when PostgreSQL "
                    + "catches up. Retry with the same idempotency_key to get a durable answer"
                : "waiting for the PostgreSQL commit failed: " + cause;
            throw new CompletionException(new StoreError.TierUnavailable(desc, Stored.STORED));
          }
          List<SendMessageResponse> out = new ArrayList<>(stored.size());
          for (SendMessageResponse r : stored) {
            out.add(r.toBuilder().setAcknowledgedBy(Tier.TIER_POSTGRES).build());
          }
          return out;
        });
  }

  private void checkCommitted(List<String> ids, long deadlineNanos) {
    CompletableFuture.runAsync(() -> {
      List<String> missing = new ArrayList<>(ids);
      try {
        missing.removeAll(postgres.existing(ids));
        waiters.committed(ids.stream().filter(id -> !missing.contains(id)).toList());
      } catch (Exception e) {
        log.debug("cannot check duplicates in postgres: {}", e.toString());
      }
      if (!missing.isEmpty() && System.nanoTime() < deadlineNanos) {
        CompletableFuture.runAsync(() -> checkCommitted(missing, deadlineNanos),
            CompletableFuture.delayedExecutor(DUPLICATE_RECHECK.toMillis(), TimeUnit.MILLISECONDS, blocking));
      }
    }, blocking);
  }

  /** Redis refused the ids as older than the thread's newest ({@link StoreResult.Behind}). */
  private static final class IdsBehind extends RuntimeException {
    final UUID newest;

    IdsBehind(UUID newest) {
      super(null, null, false, false);
      this.newest = newest;
    }
  }
}
