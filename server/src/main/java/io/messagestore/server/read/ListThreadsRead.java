package io.messagestore.server.read;

import io.grpc.Context;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.postgres.PostgresThreadStore;
import io.messagestore.server.redis.ThreadListCache;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * ListThreads: the caller's threads by recent activity, from the thread-list cache
 * ({@link ThreadListCache}: the near cache's copy, else Redis), else from PostgreSQL, whose
 * answer is cached. Counts and activity change in PostgreSQL only when the persisters commit, and
 * they drop the user's cached pages then.
 */
final class ListThreadsRead {
  private final PostgresThreadStore threads;
  private final ThreadListCache cache;
  private final PageTokens tokens;
  private final CallerQueries queries;
  private final Executor blocking;

  ListThreadsRead(PostgresThreadStore threads, ThreadListCache cache, PageTokens tokens, CallerQueries queries,
      Executor blocking) {
    this.threads = threads;
    this.cache = cache;
    this.tokens = tokens;
    this.queries = queries;
    this.blocking = blocking;
  }

  /** What a ListThreads cursor is bound to: the caller's own list. */
  static String scope(Caller caller) {
    return "threads:" + caller.userId();
  }

  /**
   * @param pageToken as the caller sent it (empty for the first page): cached pages are keyed by it
   * @param cursor the position it holds, checked by the caller
   */
  CompletableFuture<ListThreadsResponse> list(Caller caller, int pageSize, String pageToken, String cursor) {
    Context context = Context.current();
    ListThreadsResponse copy = cache.kept(caller.userId(), pageSize, pageToken);
    if (copy != null) {
      return CompletableFuture.completedFuture(copy);
    }
    return cache.read(caller.userId(), pageSize, pageToken)
        .thenCompose(cached -> cached.isPresent() ? CompletableFuture.completedFuture(cached.get())
            : CompletableFuture.supplyAsync(() -> {
              try {
                CallerQueries.checkNotCancelled(context);
                PostgresThreadStore.Page page = queries.postgres(context,
                    cancellation -> threads.listByUser(caller.userId(), cursor, pageSize, cancellation));
                ListThreadsResponse.Builder b = ListThreadsResponse.newBuilder().addAllThreads(page.threads());
                if (page.nextCursor() != null) {
                  b.setNextPageToken(tokens.encode(scope(caller), true, page.nextCursor()));
                }
                ListThreadsResponse response = b.build();
                cache.store(caller.userId(), pageSize, pageToken, response);
                return response;
              } catch (Exception e) {
                throw queries.explain(e, null);
              }
            }, blocking));
  }
}
