package io.messagestore.client;

import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.ListDeadLettersRequest;
import io.messagestore.api.v1.ListDeadLettersResponse;
import io.messagestore.api.v1.MessageStoreAdminGrpc.MessageStoreAdminBlockingStub;
import io.messagestore.api.v1.RebuildCacheRequest;
import io.messagestore.api.v1.ReplayDeadLettersRequest;
import io.messagestore.client.internal.PagingIterator;
import io.messagestore.client.internal.UnaryCaller;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The operator calls of {@code messagestore.v1.MessageStoreAdmin}, from
 * {@link MessageStoreClient#admin()}: it shares that client's channel, token supplier, options
 * and lifetime. Every call needs a token with the {@code admin} role; without it the server
 * answers {@code PERMISSION_DENIED}. Thread-safe.
 */
public final class MessageStoreAdminClient {
  private final UnaryCaller<MessageStoreAdminBlockingStub> calls;
  private final MessageStoreClientOptions options;

  MessageStoreAdminClient(UnaryCaller<MessageStoreAdminBlockingStub> calls,
      MessageStoreClientOptions options) {
    this.calls = calls;
    this.options = options;
  }

  /**
   * Reachability, breaker states and probe latency of every tier as the answering gateway
   * instance sees them, with the persistence backlog, dead letters, cache rebuild jobs and
   * threads awaiting a Redis repair.
   *
   * @throws MessageStoreException if the call fails
   */
  public GetTierStatusResponse tierStatus() {
    return calls.call("GetTierStatus",
        s -> s.getTierStatus(GetTierStatusRequest.getDefaultInstance()));
  }

  /**
   * One page of dead letters.
   *
   * @param pageSize 1-1000
   * @param pageToken "" for the first page, else the previous page's {@code next_page_token}
   * @throws MessageStoreException if the call fails
   */
  public ListDeadLettersResponse deadLetters(int pageSize, String pageToken) {
    ListDeadLettersRequest request = ListDeadLettersRequest.newBuilder()
        .setPageSize(pageSize)
        .setPageToken(Objects.requireNonNull(pageToken, "pageToken"))
        .build();
    return calls.call("ListDeadLetters", s -> s.listDeadLetters(request));
  }

  /**
   * Every dead letter, oldest first, as a lazy stream that fetches a page of
   * {@link MessageStoreClientOptions#pageSize()} entries at a time.
   *
   * @throws MessageStoreException from the stream's terminal operation when a page fails
   */
  public Stream<DeadLetter> deadLetters() {
    return PagingIterator.stream("ListDeadLetters", token -> {
      ListDeadLettersResponse page = deadLetters(options.pageSize(), token);
      return new PagingIterator.Page<>(page.getDeadLettersList(), page.getNextPageToken());
    });
  }

  /**
   * Puts the given dead letters back on the persistence stream.
   *
   * @param entryIds dead-letter entry ids as {@link DeadLetter#getEntryId()} gives them; must
   *     not be empty (use {@link #replayAllDeadLetters()} for all)
   * @return how many entries were replayed
   * @throws IllegalArgumentException if {@code entryIds} is empty
   * @throws MessageStoreException if the call fails
   */
  public long replayDeadLetters(List<String> entryIds) {
    Objects.requireNonNull(entryIds, "entryIds");
    if (entryIds.isEmpty()) {
      // An empty list means "all" on the wire: make that a deliberate call, not an accident.
      throw new IllegalArgumentException("entryIds must not be empty; use replayAllDeadLetters()");
    }
    ReplayDeadLettersRequest request =
        ReplayDeadLettersRequest.newBuilder().addAllEntryIds(entryIds).build();
    return calls.call("ReplayDeadLetters", s -> s.replayDeadLetters(request)).getReplayed();
  }

  /**
   * Puts every dead letter back on the persistence stream.
   *
   * @return how many entries were replayed
   * @throws MessageStoreException if the call fails
   */
  public long replayAllDeadLetters() {
    return calls.call("ReplayDeadLetters",
        s -> s.replayDeadLetters(ReplayDeadLettersRequest.getDefaultInstance())).getReplayed();
  }

  /**
   * Starts a background job that warms Redis with one thread from PostgreSQL.
   *
   * @return the job id; its progress shows in {@link #tierStatus()}
   * @throws MessageStoreException if the call fails
   */
  public String rebuildThread(String threadId) {
    RebuildCacheRequest request = RebuildCacheRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .build();
    return calls.call("RebuildCache", s -> s.rebuildCache(request)).getJobId();
  }

  /**
   * Starts a background job that warms Redis with the {@code threads} most recently active
   * threads.
   *
   * @return the job id; its progress shows in {@link #tierStatus()}
   * @throws MessageStoreException if the call fails
   */
  public String rebuildRecentThreads(int threads) {
    RebuildCacheRequest request = RebuildCacheRequest.newBuilder().setRecentThreads(threads).build();
    return calls.call("RebuildCache", s -> s.rebuildCache(request)).getJobId();
  }

  /**
   * Compares the tiers for the request's scope (a message, a thread or a time window) and
   * optionally repairs what it can.
   *
   * @throws MessageStoreException if the call fails
   */
  public CheckConsistencyResponse checkConsistency(CheckConsistencyRequest request) {
    Objects.requireNonNull(request, "request");
    return calls.call("CheckConsistency", s -> s.checkConsistency(request));
  }
}
