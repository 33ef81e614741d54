package io.messagestore.server.read;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Context;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.resilience.TierBreakers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ListMessages: a page of a thread. Ids come from both the Redis recent index (messages not yet
 * persisted are only there) and PostgreSQL, merged by id, so the seam between them has no gap or
 * duplicate. A page the recent index covers ({@link RecentIndex.Slice#covers}) is served from
 * Redis alone; with PostgreSQL down, any other page is UNAVAILABLE rather than short. A thread's
 * first pages are kept by the near cache until its index changes.
 */
final class ListMessagesRead {
  private static final Logger log = LoggerFactory.getLogger(ListMessagesRead.class);

  private final RedisTier redis;
  private final NearCache nearCache;
  private final RedisValues redisValues;
  private final RedisKeys keys;
  private final RecentIndex recentIndex;
  private final PostgresMessageStore postgres;
  private final ClickHouseMessageStore archive;
  private final TierBreakers breakers;
  private final ThreadAccess access;
  private final FailoverRepair repairs;
  private final PageTokens tokens;
  private final CallerQueries queries;
  private final Executor blocking;
  private final Counter firstPagesRead;
  private final Counter firstPagesFromCopies;

  ListMessagesRead(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      RecentIndex recentIndex, PostgresMessageStore postgres, ClickHouseMessageStore archive, TierBreakers breakers,
      ThreadAccess access, FailoverRepair repairs, PageTokens tokens, CallerQueries queries, Executor blocking,
      MeterRegistry meters) {
    this.redis = redis;
    this.nearCache = nearCache;
    this.redisValues = redisValues;
    this.keys = keys;
    this.recentIndex = recentIndex;
    this.postgres = postgres;
    this.archive = archive;
    this.breakers = breakers;
    this.access = access;
    this.repairs = repairs;
    this.tokens = tokens;
    this.queries = queries;
    this.blocking = blocking;
    this.firstPagesRead = Counter.builder("messagestore.read.first.pages").tag("outcome", "read_from_redis")
        .description("first pages read from the recent index in Redis alone (and offered to the near cache)")
        .register(meters);
    this.firstPagesFromCopies = Counter.builder("messagestore.read.first.pages").tag("outcome", "served_from_copy")
        .description("first pages answered from a kept copy, with no Redis round trip").register(meters);
  }

  /** @param after the cursor's position, null for a first page */
  CompletableFuture<ListMessagesResponse> list(Caller caller, String threadId, String after, int pageSize,
      boolean desc) {
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
    return redisValues.copiesUsable() && nearCache.view(index, shape) instanceof PageCopy c
        && c.repairEpoch() == repairs.epoch() && repairs.recentIndexComplete(threadId) ? c.page() : null;
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
    return breakers.redisRead().call(
        () -> recentIndex.slice(connection.get(), threadId, cursor, limit, desc)).thenCompose(slice -> {
          if (slice.ids().isEmpty()) {
            return CompletableFuture.completedFuture(new RecentPage(slice, List.of(), true));
          }
          String[] bodyKeys = new String[slice.ids().size()];
          for (int i = 0; i < bodyKeys.length; i++) {
            bodyKeys[i] = tk.message(slice.ids().get(i));
          }
          // Bodies never change: the near cache's copies serve, only the others are read.
          return redisValues.get(bodyKeys).thenApply(bodies -> new RecentPage(slice, Arrays.asList(bodies), true));
        }).exceptionally(e -> RecentPage.UNREADABLE);
  }

  /**
   * A page that reaches beyond the recent window: PostgreSQL rows (and archived ones when the
   * thread has any) merged with Redis by id, so messages not yet persisted are included and
   * nothing at a seam is doubled. Without PostgreSQL such a page is UNAVAILABLE, never short.
   */
  private ListMessagesResponse merge(String threadId, String cursor, int limit, boolean desc, RecentPage recent,
      Context context) {
    CallerQueries.checkNotCancelled(context);
    TreeMap<String, Message> byId = recent.byId();
    Map<String, Tier> source = new HashMap<>();
    String after = desc ? null : cursor;
    String before = desc ? cursor : null;
    PostgresMessageStore.Page rows;
    try {
      rows = queries.postgres(context,
          cancellation -> postgres.pageWithArchiveCount(threadId, after, before, limit, desc, cancellation));
    } catch (CancellationException e) {
      throw new StoreError.Cancelled("caller went away; the PostgreSQL page query was cancelled");
    } catch (Exception e) {
      throw queries.explain(e, "this page of thread '" + threadId
          + "' reaches beyond the recent messages held in Redis");
    }
    rows.messages().forEach(m -> {
      if (byId.putIfAbsent(m.getMessageId(), m) == null) {
        source.put(m.getMessageId(), Tier.TIER_POSTGRES);
      }
    });
    if (rows.archivedMessages() > 0) {
      CallerQueries.checkNotCancelled(context);
      try {
        List<Message> archived = breakers.clickhouseRead().callBlocking(
            () -> archive.page(threadId, after, before, limit, desc));
        archived.forEach(m -> {
          if (byId.putIfAbsent(m.getMessageId(), m) == null) {
            source.put(m.getMessageId(), Tier.TIER_CLICKHOUSE);
          }
        });
      } catch (Exception e) {
        throw breakers.clickhouseRead().explain(e, "thread '" + threadId + "' has archived messages");
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
    breakers.redisWrite().call(
        () -> recentIndex.refillWholeThread(redis.async(), threadId, thread)).whenComplete((v, e) -> {
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

  private static Optional<Message> parse(byte[] bytes) {
    try {
      return Optional.of(Message.parseFrom(bytes));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }
}
