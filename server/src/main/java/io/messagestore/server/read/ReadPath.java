package io.messagestore.server.read;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.consistency.FailoverRepair;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.postgres.QueryCancellation;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.redis.ThreadListCache;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.write.SendRequestValidator;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
  private final NearCache nearCache;
  private final RedisKeys keys;
  private final PostgresMessageStore postgres;
  private final PostgresThreadStore threads;
  private final TierBreakers breakers;
  private final PageTokens tokens;
  private final Executor blocking;
  private final Duration messageTtl;
  private final ClickHouseMessageStore archive;
  private final Counter postgresLookups;
  private final Counter clickhouseLookups;
  private final Counter firstPagesRead;
  private final Counter firstPagesFromCopies;
  private final ConcurrentHashMap<String, CompletableFuture<Found>> inflightMisses = new ConcurrentHashMap<>();
  private final FailoverRepair repairs;
  private final RecentIndex recentIndex;
  private final ThreadListCache threadLists;
  private final ThreadAccess access;
  private final RedisValues redisValues;

  public ReadPath(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      PostgresMessageStore postgres, PostgresThreadStore threads, ClickHouseMessageStore archive, TierBreakers breakers,
      PageTokens tokens, Executor blocking, Duration messageTtl, RecentIndex recentIndex, ThreadListCache threadLists,
      FailoverRepair repairs, ThreadAccess access, MeterRegistry meters) {
    this.access = access;
    this.redisValues = redisValues;
    this.archive = archive;
    this.recentIndex = recentIndex;
    this.threadLists = threadLists;
    this.repairs = repairs;
    this.postgresLookups = Counter.builder("messagestore.read.lookups").tag("tier", "postgres")
        .description("single-message lookups below Redis (after coalescing)").register(meters);
    this.clickhouseLookups = Counter.builder("messagestore.read.lookups").tag("tier", "clickhouse")
        .description("single-message lookups below Redis (after coalescing)").register(meters);
    this.firstPagesRead = Counter.builder("messagestore.read.first.pages").tag("outcome", "read_from_redis")
        .description("first pages read from the recent index in Redis alone (and offered to the near cache)")
        .register(meters);
    this.firstPagesFromCopies = Counter.builder("messagestore.read.first.pages").tag("outcome", "served_from_copy")
        .description("first pages answered from a kept copy, with no Redis round trip").register(meters);
    this.redis = redis;
    this.nearCache = nearCache;
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
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    // Owner and message (same slot): copies from the near cache, else one MGET, one round trip
    // with no hop; the stored bytes go out as they are.
    return redisValues(tk.owner(), tk.message(canonical))
        .handle((values, e) -> e == null ? values : null)
        .thenCompose(values -> {
          if (values != null && values[0] != null) {
            access.requireRead(caller, threadId, new String(values[0], StandardCharsets.UTF_8));
            if (StoredMessages.plausible(values[1])) {
              return CompletableFuture.completedFuture(StoredMessages.getResponse(values[1], Tier.TIER_REDIS));
            }
            return answerBelowRedis(threadId, canonical);
          }
          // Redis has no owner (or did not answer): the owner comes from below, and the message
          // from what that same MGET found, not from a second read of what it just read.
          byte[] stored = values == null ? null : values[1];
          return access.checkReadBelowRedis(caller, threadId)
              .thenCompose(v -> StoredMessages.plausible(stored)
                  ? CompletableFuture.completedFuture(StoredMessages.getResponse(stored, Tier.TIER_REDIS))
                  : answerBelowRedis(threadId, canonical));
        });
  }

  private CompletableFuture<GetMessageResponse> answerBelowRedis(String threadId, String canonical) {
    return belowRedisCoalesced(threadId, canonical).thenApply(found -> {
      if (found.message() == null) {
        throw Status.NOT_FOUND.withDescription(
            "message " + canonical + " not found in thread '" + threadId + "'").asRuntimeException();
      }
      return GetMessageResponse.newBuilder().setMessage(found.message()).setServedFrom(found.tier()).build();
    });
  }

  private CompletableFuture<byte[][]> redisValues(String... keys) {
    return redisValues.get(keys);
  }

  private boolean copiesUsable() {
    return redisValues.copiesUsable();
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
          checkNotCancelled(caller);
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
      Optional<Message> m = GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
          () -> postgres.find(threadId, messageId), PostgresTier::isConnectivityFailure);
      if (m.isPresent()) {
        return new Found(m.get(), Tier.TIER_POSTGRES);
      }
    } catch (Exception e) {
      postgresFailure = e;
    }
    try {
      clickhouseLookups.increment();
      Optional<Message> m = GuardedCall.runBlocking(breakers.get(TierBreakers.CLICKHOUSE_READ),
          () -> archive.find(threadId, messageId), e -> !(e instanceof InterruptedException));
      if (m.isPresent()) {
        return new Found(m.get(), Tier.TIER_CLICKHOUSE);
      }
    } catch (Exception e) {
      throw unavailable("clickhouse", e, postgresFailure == null ? "message " + messageId + " is not in PostgreSQL"
          : "postgres is unavailable too (" + GuardedCall.unwrap(postgresFailure).getMessage() + ")");
    }
    if (postgresFailure != null) {
      throw unavailable("postgres", postgresFailure, "message " + messageId + " is not in Redis or the archive");
    }
    return new Found(null, null);
  }

  /** A PostgreSQL query that can be told to stop when nobody waits for it any more. */
  @FunctionalInterface
  private interface CancellableQuery<T> {
    T run(QueryCancellation cancellation) throws Exception;
  }

  /**
   * Runs a PostgreSQL read for {@code caller} under the read breaker, cancelled in PostgreSQL
   * when the caller goes away; a query failing because of that is a cancellation, which the
   * breaker does not count against PostgreSQL.
   */
  private <T> T queryForCaller(Context caller, CancellableQuery<T> query) throws Exception {
    return GuardedCall.runBlocking(breakers.get(TierBreakers.POSTGRES_READ),
        () -> cancelledIfCallerLeft(caller, () -> query.run(whenCallerLeaves(caller))),
        PostgresTier::isConnectivityFailure);
  }

  /**
   * Cancels a running PostgreSQL query when its caller goes away (cancel or deadline). The
   * cancellation runs on the blocking pool: it opens a connection of its own to PostgreSQL.
   */
  private QueryCancellation whenCallerLeaves(Context caller) {
    return cancel -> {
      Context.CancellationListener listener = ctx -> cancel.run();
      caller.addListener(listener, blocking);
      return () -> caller.removeListener(listener);
    };
  }

  /**
   * Turns the failure of a query cancelled for a departed caller into a cancellation, which
   * the breaker does not count against PostgreSQL.
   */
  private static <T> T cancelledIfCallerLeft(Context caller, GuardedCall.BlockingCall<T> query) throws Exception {
    try {
      return query.call();
    } catch (SQLException e) {
      if (caller.isCancelled()) {
        throw new CancellationException("caller went away: " + e.getMessage());
      }
      throw e;
    }
  }

  private static void checkNotCancelled(Context caller) {
    if (caller.isCancelled()) {
      // The caller went away or its deadline passed: no lower-tier work on its behalf.
      throw Status.CANCELLED.withDescription("caller cancelled or deadline exceeded before the lower-tier read")
          .asRuntimeException();
    }
  }

  /**
   * Read-through: puts a lower-tier hit back into Redis, runs {@code stored} once Redis has
   * taken it (or could not), then waits for every connection that carries message reads to
   * answer what was sent on it before ({@link NearCache#barrier}). Until that completes the shared lookup stays joinable,
   * which closes the coalescing window exactly: a GET that Redis ran before the refill missed, and its reply
   * (which joins the answered lookup) is handled before the barrier completes; a GET that
   * Redis runs after the refill hits. Nothing here blocks a thread.
   */
  private CompletableFuture<Void> refill(Message m, Runnable stored) {
    // Through the write breaker: with Redis down, a refill must cost nothing.
    CompletableFuture<String> put = GuardedCall.run(breakers.get(TierBreakers.REDIS_WRITE), () -> redis.async()
        .psetex(keys.message(m.getThreadId(), m.getMessageId()), messageTtl.toMillis(), m.toByteArray()), e -> true);
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
    Context context = Context.current();
    FirstPage firstPage = after == null ? new FirstPage(desc, pageSize) : null;
    String index = firstPage == null ? null : keys.recent(threadId);
    return access.checkRead(caller, threadId).thenCompose(v -> {
      ListMessagesResponse copy = firstPage == null ? null : firstPageCopy(threadId, index, firstPage);
      if (copy != null) {
        firstPagesFromCopies.increment();
        return CompletableFuture.completedFuture(copy);
      }
      long repairEpoch = repairs.epoch();
      // A first page is read where Redis tracks the index, so that it can be kept until the
      // index changes: it is what a thread's readers ask for again and again.
      NearCache.TrackedRead read = firstPage == null ? null : nearCache.track(index);
      return recentPage(threadId, read == null ? redis::async : read::commands, after, pageSize, desc)
          .thenCompose(recent -> {
            if (!recent.covers(after, pageSize, desc) || !repairs.recentIndexComplete(threadId)) {
              return CompletableFuture.supplyAsync(() -> merge(threadId, after, pageSize, desc, recent, context),
                  blocking);
            }
            // The hot path: the page lies inside the recent window, no thread hop, no
            // PostgreSQL, and the stored bytes go out as they are.
            ListMessagesResponse page = StoredMessages.listResponse(recent.bodies(), Tier.TIER_REDIS,
                recent.ids().size() == pageSize ? tokens.encode(threadId, desc, recent.ids().get(pageSize - 1)) : "");
            if (read != null) {
              firstPagesRead.increment();
              nearCache.keepView(read, firstPage, new PageCopy(page, repairEpoch), page.getSerializedSize());
            }
            return CompletableFuture.completedFuture(page);
          });
    });
  }

  /** The first page of a thread in one direction and size: a view of its recent index. */
  private record FirstPage(boolean newestFirst, int pageSize) {}

  /**
   * A first page as it was served from Redis, kept by the near cache until the recent index
   * changes (the bodies in it never do), and the repair epoch it was built in.
   */
  private record PageCopy(ListMessagesResponse page, long repairEpoch) {}

  /**
   * The kept copy of a first page, while it is still what Redis would answer: the index has not
   * changed (the near cache drops the copy when it does), no write around Redis has happened
   * since it was built ({@link FailoverRepair#epoch}), and, as with every copy, Redis reads
   * are not failing.
   */
  private ListMessagesResponse firstPageCopy(String threadId, String index, FirstPage shape) {
    return copiesUsable() && nearCache.view(index, shape) instanceof PageCopy c && c.repairEpoch() == repairs.epoch()
        && repairs.recentIndexComplete(threadId) ? c.page() : null;
  }

  /**
   * The Redis part of a page: what the recent index says about it, and the stored bodies of the
   * ids listed (null where a key expired).
   */
  private record RecentPage(RecentIndex.Slice slice, List<byte[]> bodies, boolean redisOk) {
    static final RecentPage UNREADABLE = new RecentPage(new RecentIndex.Slice(List.of(), null), List.of(), false);

    List<String> ids() {
      return slice.ids();
    }

    /** The index's coverage rule, provided every listed body is still in Redis. */
    boolean covers(String cursor, int limit, boolean desc) {
      return redisOk && slice.covers(cursor, limit, desc) && bodies.stream().allMatch(StoredMessages::plausible);
    }

    TreeMap<String, Message> byId() {
      TreeMap<String, Message> m = new TreeMap<>();
      for (byte[] body : bodies) {
        if (StoredMessages.plausible(body)) {
          parse(body).ifPresent(x -> m.put(x.getMessageId(), x));
        }
      }
      return m;
    }
  }

  /**
   * Two round trips: the ids and the index's lowest id (pipelined), then the bodies the near
   * cache has no copies of (none for a hot page: one round trip; none at all for a first page
   * the near cache kept, see {@link #list}). One Lua script could do it in
   * one, but copying fifty bodies through Lua costs Redis several times the CPU of the plain
   * commands (measured: about 100 µs against 30 µs per page of fifty 512-byte messages), and
   * Redis is the one thread every call shares.
   */
  private CompletableFuture<RecentPage> recentPage(String threadId,
      Supplier<RedisAsyncCommands<String, byte[]>> connection, String cursor, int limit, boolean desc) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    return GuardedCall.run(breakers.get(TierBreakers.REDIS_READ),
        () -> recentIndex.slice(connection.get(), threadId, cursor, limit, desc), e -> true).thenCompose(slice -> {
          if (slice.ids().isEmpty()) {
            return CompletableFuture.completedFuture(new RecentPage(slice, List.of(), true));
          }
          String[] bodyKeys = new String[slice.ids().size()];
          for (int i = 0; i < bodyKeys.length; i++) {
            bodyKeys[i] = tk.message(slice.ids().get(i));
          }
          // Bodies never change: the near cache's copies serve, only the others are read.
          return redisValues(bodyKeys).thenApply(bodies -> new RecentPage(slice, Arrays.asList(bodies), true));
        }).exceptionally(e -> RecentPage.UNREADABLE);
  }

  /**
   * A page that reaches beyond the recent window: PostgreSQL rows (and archived ones when the
   * thread has any) merged with Redis by id, so messages not yet persisted are included and
   * nothing at a seam is doubled. Without PostgreSQL such a page is UNAVAILABLE, never short.
   */
  private ListMessagesResponse merge(String threadId, String cursor, int limit, boolean desc, RecentPage recent,
      Context context) {
    checkNotCancelled(context);
    TreeMap<String, Message> byId = recent.byId();
    Map<String, Tier> source = new java.util.HashMap<>();
    String after = desc ? null : cursor;
    String before = desc ? cursor : null;
    PostgresMessageStore.Page rows;
    try {
      rows = queryForCaller(context,
          cancellation -> postgres.pageWithArchiveCount(threadId, after, before, limit, desc, cancellation));
    } catch (CancellationException e) {
      throw Status.CANCELLED.withDescription("caller went away; the PostgreSQL page query was cancelled")
          .asRuntimeException();
    } catch (Exception e) {
      throw unavailable("postgres", e, "this page of thread '" + threadId
          + "' reaches beyond the recent messages held in Redis");
    }
    rows.messages().forEach(m -> {
      if (byId.putIfAbsent(m.getMessageId(), m) == null) {
        source.put(m.getMessageId(), Tier.TIER_POSTGRES);
      }
    });
    if (rows.archivedMessages() > 0) {
      checkNotCancelled(context);
      try {
        List<Message> archived = GuardedCall.runBlocking(breakers.get(TierBreakers.CLICKHOUSE_READ),
            () -> archive.page(threadId, after, before, limit, desc), e -> !(e instanceof InterruptedException));
        archived.forEach(m -> {
          if (byId.putIfAbsent(m.getMessageId(), m) == null) {
            source.put(m.getMessageId(), Tier.TIER_CLICKHOUSE);
          }
        });
      } catch (Exception e) {
        throw unavailable("clickhouse", e, "thread '" + threadId + "' has archived messages");
      }
    }
    if (recentIndex.isWholeThread(cursor == null, byId.size(), limit, rows.archivedMessages())
        && recent.redisOk() && !recent.slice().holdsWholeThread() && repairs.recentIndexComplete(threadId)) {
      refillWholeThread(threadId, byId.values());
    }
    return respond(threadId, limit, desc, byId, source);
  }

  /**
   * A first page that came out short holds the whole thread: give it back to the recent index,
   * with the thread-start marker, so its next pages are served from Redis alone (read-through,
   * as GetMessage refills single messages). Best effort, through the write breaker.
   */
  private void refillWholeThread(String threadId, Collection<Message> thread) {
    GuardedCall.run(breakers.get(TierBreakers.REDIS_WRITE),
        () -> recentIndex.refillWholeThread(redis.async(), threadId, thread), e -> true).whenComplete((v, e) -> {
          if (e != null) {
            log.debug("thread {} not refilled into its recent index: {}", threadId, e.toString());
          }
        });
  }

  /**
   * @param source the tier of every message not from Redis; served_from is the lowest tier
   *     among the messages that made the page
   */
  private ListMessagesResponse respond(String threadId, int limit, boolean desc, TreeMap<String, Message> byId,
      Map<String, Tier> source) {
    List<Message> page = new ArrayList<>(Math.min(limit, byId.size()));
    Tier servedFrom = Tier.TIER_REDIS;
    for (Message m : desc ? byId.descendingMap().values() : byId.values()) {
      if (page.size() == limit) {
        break;
      }
      page.add(m);
      Tier t = source.getOrDefault(m.getMessageId(), Tier.TIER_REDIS);
      if (t.getNumber() > servedFrom.getNumber()) {
        servedFrom = t;
      }
    }
    ListMessagesResponse.Builder b = ListMessagesResponse.newBuilder().addAllMessages(page).setServedFrom(servedFrom);
    if (page.size() == limit) {
      b.setNextPageToken(tokens.encode(threadId, desc, page.get(page.size() - 1).getMessageId()));
    }
    return b.build();
  }

  /**
   * The caller's threads by recent activity. Pages are cached in Redis per user; persisters drop
   * a user's cache whenever they commit that user's messages (counts and activity live in
   * PostgreSQL and change only then), and a TTL bounds staleness if a drop is missed. A page
   * found there is also kept by the near cache until the user's cache changes in Redis, so a
   * caller polling its thread list costs no round trip.
   */
  public CompletableFuture<ListThreadsResponse> listThreads(Caller caller, ListThreadsRequest request) {
    int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw Status.INVALID_ARGUMENT.withDescription("page_size must be 1-" + MAX_PAGE_SIZE + ", got " + request.getPageSize())
          .asRuntimeException();
    }
    String scope = "threads:" + caller.userId();
    String cursor = request.getPageToken().isEmpty() ? null : tokens.decode(request.getPageToken(), scope, true);
    Context context = Context.current();
    ListThreadsResponse copy = threadLists.kept(caller.userId(), pageSize, request.getPageToken());
    if (copy != null) {
      return CompletableFuture.completedFuture(copy);
    }
    return threadLists.read(caller.userId(), pageSize, request.getPageToken())
        .thenCompose(cached -> cached.isPresent() ? CompletableFuture.completedFuture(cached.get())
            : CompletableFuture.supplyAsync(() -> {
              try {
                checkNotCancelled(context);
                PostgresThreadStore.Page page = queryForCaller(context,
                    cancellation -> threads.listByUser(caller.userId(), cursor, pageSize, cancellation));
                ListThreadsResponse.Builder b = ListThreadsResponse.newBuilder().addAllThreads(page.threads());
                if (page.nextCursor() != null) {
                  b.setNextPageToken(tokens.encode(scope, true, page.nextCursor()));
                }
                ListThreadsResponse response = b.build();
                threadLists.store(caller.userId(), pageSize, request.getPageToken(), response);
                return response;
              } catch (Exception e) {
                throw unavailable("postgres", e);
              }
            }, blocking));
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
