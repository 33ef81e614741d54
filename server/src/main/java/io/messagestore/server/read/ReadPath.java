package io.messagestore.server.read;

import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.redis.ThreadListCache;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.write.SendRequestValidator;
import io.micrometer.core.instrument.MeterRegistry;
import io.messagestore.api.v1.Message;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * GetMessage, ListMessages and ListThreads: checks what a request names (thread, message id, page
 * size, cursor), then hands it to the flow of its RPC ({@link GetMessageRead},
 * {@link ListMessagesRead}, {@link ListThreadsRead}). Each reads Redis first, then PostgreSQL and
 * ClickHouse, each tier behind its breaker, and checks first that the caller may read the thread
 * ({@link ThreadAccess}).
 */
public final class ReadPath {
  public static final int DEFAULT_PAGE_SIZE = 50;
  public static final int MAX_PAGE_SIZE = 1000;

  private final PageTokens tokens;
  private final GetMessageRead getMessage;
  private final ListMessagesRead listMessages;
  private final ListThreadsRead listThreads;

  public ReadPath(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      PostgresMessageStore postgres, PostgresThreadStore threads, ClickHouseMessageStore archive, TierBreakers breakers,
      PageTokens tokens, Executor blocking, Duration messageTtl, RecentIndex recentIndex, ThreadListCache threadLists,
      FailoverRepair repairs, ThreadAccess access, MeterRegistry meters) {
    this.tokens = tokens;
    CallerQueries queries = new CallerQueries(breakers, blocking);
    this.getMessage = new GetMessageRead(redis, nearCache, redisValues, keys, postgres, archive, breakers, access,
        blocking, messageTtl, meters);
    this.listMessages = new ListMessagesRead(redis, nearCache, redisValues, keys, recentIndex, postgres, archive,
        breakers, access, repairs, tokens, queries, blocking, meters);
    this.listThreads = new ListThreadsRead(threads, threadLists, tokens, queries, blocking);
  }

  public CompletableFuture<GetMessageResponse> get(Caller caller, String threadId, String messageId) {
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    UUID id;
    try {
      id = UUID.fromString(messageId);
    } catch (IllegalArgumentException e) {
      throw new StoreError.Invalid("message_id must be a UUID, got '" + messageId + "'");
    }
    return getMessage.get(caller, threadId, id.toString());
  }

  public CompletableFuture<ListMessagesResponse> list(Caller caller, ListMessagesRequest request) {
    String threadId = request.getThreadId();
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    int pageSize = pageSize(request.getPageSize());
    boolean desc = request.getNewestFirst();
    String after = request.getPageToken().isEmpty() ? null : tokens.decode(request.getPageToken(), threadId, desc);
    return listMessages.list(caller, threadId, after, pageSize, desc);
  }

  /** Messages of a thread in its order, and whether more follow. */
  public record ThreadPage(List<Message> messages, boolean more) {}

  /**
   * Up to {@code pageSize} messages of the thread after {@code afterId} (null: from its first),
   * oldest first, from whichever tiers hold them: what a watch catches up with.
   */
  public CompletableFuture<ThreadPage> after(Caller caller, String threadId, String afterId, int pageSize) {
    return listMessages.list(caller, threadId, afterId, pageSize, false)
        .thenApply(r -> new ThreadPage(StoredMessages.messagesOf(r), !r.getNextPageToken().isEmpty()));
  }

  /**
   * The id of the thread's newest message, after checking that the caller may read it; NOT_FOUND
   * when it has none (a thread exists from its first message until it is deleted).
   */
  public CompletableFuture<String> newestId(Caller caller, String threadId) {
    return listMessages.list(caller, threadId, null, 1, true).thenApply(r -> {
      List<Message> newest = StoredMessages.messagesOf(r);
      if (newest.isEmpty()) {
        throw new StoreError.NotFound("thread '" + threadId + "' not found");
      }
      return newest.get(0).getMessageId();
    });
  }

  public CompletableFuture<ListThreadsResponse> listThreads(Caller caller, ListThreadsRequest request) {
    int pageSize = pageSize(request.getPageSize());
    String cursor = request.getPageToken().isEmpty() ? null
        : tokens.decode(request.getPageToken(), ListThreadsRead.scope(caller), true);
    return listThreads.list(caller, pageSize, request.getPageToken(), cursor);
  }

  /** The page size asked for, or the default for 0. */
  private static int pageSize(int asked) {
    int pageSize = asked == 0 ? DEFAULT_PAGE_SIZE : asked;
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new StoreError.Invalid("page_size must be 1-" + MAX_PAGE_SIZE + ", got " + asked);
    }
    return pageSize;
  }
}
