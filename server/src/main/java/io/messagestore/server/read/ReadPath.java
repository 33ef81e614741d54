package io.messagestore.server.read;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.write.SendRequestValidator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GetMessage, ListMessages and ListThreads: Redis, then PostgreSQL, each behind its breaker.
 *
 * <p>A lower-tier hit refills Redis (read-through); concurrent misses for the same message share
 * one PostgreSQL query. Every read first checks that the caller owns the thread.
 */
public final class ReadPath {
  private static final Logger log = LoggerFactory.getLogger(ReadPath.class);
  public static final int DEFAULT_PAGE_SIZE = 50;
  public static final int MAX_PAGE_SIZE = 1000;

  private final RedisTier redis;
  private final RedisKeys keys;
  private final PostgresMessageStore postgres;
  private final PostgresThreadStore threads;
  private final TierBreakers breakers;
  private final PageTokens tokens;
  private final Executor blocking;
  private final Duration messageTtl;
  private final ConcurrentHashMap<String, CompletableFuture<Optional<Message>>> inflightMisses = new ConcurrentHashMap<>();

  public ReadPath(RedisTier redis, RedisKeys keys, PostgresMessageStore postgres, PostgresThreadStore threads,
      TierBreakers breakers, PageTokens tokens, Executor blocking, Duration messageTtl) {
    this.redis = redis;
    this.keys = keys;
    this.postgres = postgres;
    this.threads = threads;
    this.breakers = breakers;
    this.tokens = tokens;
    this.blocking = blocking;
    this.messageTtl = messageTtl;
  }

  public CompletableFuture<GetMessageResponse> get(Caller caller, String threadId, String messageId) {
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    try {
      UUID.fromString(messageId);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription("message_id must be a UUID, got '" + messageId + "'").asRuntimeException();
    }
    String canonical = UUID.fromString(messageId).toString();
    return checkOwner(caller, threadId).thenCompose(v -> fromRedis(threadId, canonical))
        .thenCompose(hit -> {
          if (hit.isPresent()) {
            return CompletableFuture.completedFuture(
                GetMessageResponse.newBuilder().setMessage(hit.get()).setServedFrom(Tier.TIER_REDIS).build());
          }
          return fromPostgresCoalesced(threadId, canonical).thenApply(found -> {
            Message m = found.orElseThrow(() -> Status.NOT_FOUND.withDescription(
                "message " + canonical + " not found in thread '" + threadId + "'").asRuntimeException());
            return GetMessageResponse.newBuilder().setMessage(m).setServedFrom(Tier.TIER_POSTGRES).build();
          });
        });
  }

  /** Empty on a miss, on an open breaker and on a Redis failure alike: the next tier decides. */
  private CompletableFuture<Optional<Message>> fromRedis(String threadId, String messageId) {
    return GuardedCall.run(breakers.get(TierBreakers.REDIS_READ),
            () -> redis.async().get(keys.message(threadId, messageId)), e -> true)
        .handle((bytes, e) -> {
          if (e != null || bytes == null) {
            return Optional.<Message>empty();
          }
          return parse(bytes);
        });
  }

  private CompletableFuture<Optional<Message>> fromPostgresCoalesced(String threadId, String messageId) {
    CompletableFuture<Optional<Message>> mine = new CompletableFuture<>();
    CompletableFuture<Optional<Message>> shared = inflightMisses.putIfAbsent(messageId, mine);
    if (shared != null) {
      return shared;
    }
    CompletableFuture.runAsync(() -> {
      try {
        Optional<Message> m = GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
            () -> postgres.find(threadId, messageId), PostgresTier::isConnectivityFailure);
        m.ifPresent(this::refill);
        mine.complete(m);
      } catch (Exception e) {
        mine.completeExceptionally(unavailable("postgres", e));
      } finally {
        inflightMisses.remove(messageId, mine);
      }
    }, blocking);
    return mine;
  }

  private void refill(Message m) {
    try {
      redis.async().psetex(keys.message(m.getThreadId(), m.getMessageId()), messageTtl.toMillis(), m.toByteArray());
    } catch (RuntimeException e) {
      log.debug("read-through refill skipped: {}", e.toString());
    }
  }

  /**
   * A page of a thread. Ids come from both the Redis recent index (messages not yet persisted
   * are only there) and PostgreSQL, merged by id, so the seam between them has no gap or
   * duplicate. With PostgreSQL down, a page is served from Redis only when the recent window
   * provably covers it; otherwise the caller gets UNAVAILABLE rather than a short page.
   */
  public CompletableFuture<ListMessagesResponse> list(Caller caller, ListMessagesRequest request) {
    String threadId = request.getThreadId();
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw Status.INVALID_ARGUMENT.withDescription("page_size must be 1-" + MAX_PAGE_SIZE + ", got " + request.getPageSize())
          .asRuntimeException();
    }
    boolean desc = request.getNewestFirst();
    String after = request.getPageToken().isEmpty() ? null
        : tokens.decode(request.getPageToken(), threadId, desc);
    return checkOwner(caller, threadId).thenCompose(v -> recentPage(threadId, after, pageSize, desc))
        .thenCompose(recent -> CompletableFuture.supplyAsync(() -> merge(threadId, after, pageSize, desc, recent), blocking));
  }

  /** The Redis part of a page: ids beyond the cursor in the recent index, their bodies, and its lowest id. */
  private record RecentPage(List<Message> messages, int idsListed, String lowestIndexed, boolean redisOk) {}

  private CompletableFuture<RecentPage> recentPage(String threadId, String cursor, int limit, boolean desc) {
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    String index = keys.recent(threadId);
    return GuardedCall.run(breakers.get(TierBreakers.REDIS_READ), () -> {
      Range<byte[]> range = desc
          ? Range.from(Range.Boundary.unbounded(), cursor == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(ascii(cursor)))
          : Range.from(cursor == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(ascii(cursor)), Range.Boundary.unbounded());
      var ids = desc ? cmd.zrevrangebylex(index, range, Limit.create(0, limit)) : cmd.zrangebylex(index, range, Limit.create(0, limit));
      var lowest = cmd.zrange(index, 0, 0);
      return ids.thenCombine(lowest, (idList, low) -> new Object[] {idList, low}).thenCompose(pair -> {
        @SuppressWarnings("unchecked") List<byte[]> idList = (List<byte[]>) pair[0];
        @SuppressWarnings("unchecked") List<byte[]> low = (List<byte[]>) pair[1];
        String lowestId = low.isEmpty() ? null : new String(low.get(0), StandardCharsets.US_ASCII);
        if (idList.isEmpty()) {
          return CompletableFuture.completedFuture(new RecentPage(List.of(), 0, lowestId, true));
        }
        String[] msgKeys = idList.stream().map(b -> keys.message(threadId, new String(b, StandardCharsets.US_ASCII)))
            .toArray(String[]::new);
        return cmd.mget(msgKeys).toCompletableFuture().thenApply(values -> {
          List<Message> out = new ArrayList<>();
          for (var kv : values) {
            if (kv.hasValue()) {
              parse(kv.getValue()).ifPresent(out::add);
            }
          }
          return new RecentPage(out, idList.size(), lowestId, true);
        });
      });
    }, e -> true).exceptionally(e -> new RecentPage(List.of(), 0, null, false));
  }

  private ListMessagesResponse merge(String threadId, String cursor, int limit, boolean desc, RecentPage recent) {
    TreeMap<String, Message> byId = new TreeMap<>();
    recent.messages().forEach(m -> byId.put(m.getMessageId(), m));
    boolean allBodies = recent.messages().size() == recent.idsListed();
    // The recent index is a contiguous suffix of the thread: it covers a page when the page
    // starts inside it (ascending) or is filled from it (descending).
    boolean covered = recent.redisOk() && allBodies && recent.lowestIndexed() != null
        && (desc ? recent.idsListed() == limit : cursor != null && cursor.compareTo(recent.lowestIndexed()) >= 0);
    Tier servedFrom = Tier.TIER_REDIS;
    if (!covered) {
      try {
        List<Message> rows = GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
            () -> postgres.page(threadId, desc ? null : cursor, desc ? cursor : null, limit, desc),
            PostgresTier::isConnectivityFailure);
        rows.forEach(m -> byId.putIfAbsent(m.getMessageId(), m));
        servedFrom = Tier.TIER_POSTGRES;
      } catch (Exception e) {
        throw unavailable("postgres", e, "this page of thread '" + threadId
            + "' reaches beyond the recent messages held in Redis");
      }
    }
    List<Message> page = new ArrayList<>(limit);
    for (Message m : desc ? byId.descendingMap().values() : byId.values()) {
      if (page.size() == limit) {
        break;
      }
      page.add(m);
    }
    ListMessagesResponse.Builder b = ListMessagesResponse.newBuilder().addAllMessages(page).setServedFrom(servedFrom);
    if (page.size() == limit) {
      b.setNextPageToken(tokens.encode(threadId, desc, page.get(page.size() - 1).getMessageId()));
    }
    return b.build();
  }

  public CompletableFuture<ListThreadsResponse> listThreads(Caller caller, ListThreadsRequest request) {
    int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw Status.INVALID_ARGUMENT.withDescription("page_size must be 1-" + MAX_PAGE_SIZE).asRuntimeException();
    }
    String cursor = request.getPageToken().isEmpty() ? null : tokens.decode(request.getPageToken(), "threads:" + caller.userId(), true);
    return CompletableFuture.supplyAsync(() -> {
      try {
        PostgresThreadStore.Page page = GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
            () -> threads.listByUser(caller.userId(), cursor, pageSize), PostgresTier::isConnectivityFailure);
        ListThreadsResponse.Builder b = ListThreadsResponse.newBuilder().addAllThreads(page.threads());
        if (page.nextCursor() != null) {
          b.setNextPageToken(tokens.encode("threads:" + caller.userId(), true, page.nextCursor()));
        }
        return b.build();
      } catch (Exception e) {
        throw unavailable("postgres", e);
      }
    }, blocking);
  }

  /**
   * PERMISSION_DENIED unless the caller owns the thread. A thread nobody owns yet reads as
   * empty (NOT_FOUND for single messages), so probing reveals nothing about others' threads.
   */
  private CompletableFuture<Void> checkOwner(Caller caller, String threadId) {
    return GuardedCall.run(breakers.get(TierBreakers.REDIS_READ), () -> redis.async().get(keys.owner(threadId)), e -> true)
        .handle((bytes, e) -> bytes == null ? null : new String(bytes, StandardCharsets.UTF_8))
        .thenCompose(owner -> owner != null ? CompletableFuture.completedFuture(Optional.of(owner))
            : CompletableFuture.supplyAsync(() -> {
              try {
                return GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
                    () -> postgres.owner(threadId), PostgresTier::isConnectivityFailure);
              } catch (Exception ex) {
                throw unavailable("postgres", ex, "the owner of thread '" + threadId + "' is not in Redis");
              }
            }, blocking))
        .thenAccept(owner -> {
          if (owner.isPresent() && !owner.get().equals(caller.userId()) && !caller.isAdmin()) {
            throw Status.PERMISSION_DENIED.withDescription(
                "thread '" + threadId + "' belongs to another user, not '" + caller.userId() + "'").asRuntimeException();
          }
        });
  }

  private static Optional<Message> parse(byte[] bytes) {
    try {
      return Optional.of(Message.parseFrom(bytes));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static StatusRuntimeException unavailable(String tier, Throwable e) {
    return unavailable(tier, e, null);
  }

  private static StatusRuntimeException unavailable(String tier, Throwable e, String context) {
    Throwable c = GuardedCall.unwrap(e);
    if (c instanceof StatusRuntimeException s) {
      return s;
    }
    return Status.UNAVAILABLE.withDescription(tier + " unavailable" + (context == null ? "" : " and " + context)
        + ": " + c.getClass().getSimpleName() + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")")).asRuntimeException();
  }
}
