package io.messagestore.client;

import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.ListDeadLettersResponse;
import io.messagestore.client.internal.CallRunner;
import io.messagestore.client.internal.PagingIterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The operator calls of {@code messagestore.v1.MessageStoreAdmin}, from
 * {@link MessageStoreClient#admin()}: it shares that client's channel, token supplier, options
 * and lifetime. Every call needs a token with the {@code admin} role; without it the server
 * answers {@code PERMISSION_DENIED}. Reads are retried by the {@link CallType#READ} policy, the
 * others by {@link CallType#OTHER_WRITE}. {@link #async()} is the asynchronous twin.
 * Thread-safe.
 */
public final class MessageStoreAdminClient {
  private final MessageStoreAdminAsyncClient async;
  private final MessageStoreClientOptions options;

  MessageStoreAdminClient(MessageStoreAdminAsyncClient async, MessageStoreClientOptions options) {
    this.async = async;
    this.options = options;
  }

  /** The same calls, asynchronous. */
  public MessageStoreAdminAsyncClient async() {
    return async;
  }

  /**
   * Reachability, breaker states and probe latency of every tier as the answering gateway
   * instance sees them, with the persistence backlog, dead letters, cache rebuild jobs and
   * threads awaiting a Redis repair.
   *
   * @throws MessageStoreException if the call fails
   */
  public GetTierStatusResponse tierStatus() {
    return CallRunner.await("GetTierStatus", async.tierStatus());
  }

  /**
   * One page of dead letters.
   *
   * @param pageSize 1-1000
   * @param pageToken "" for the first page, else the previous page's {@code next_page_token}
   * @throws MessageStoreException if the call fails
   */
  public ListDeadLettersResponse deadLetters(int pageSize, String pageToken) {
    return CallRunner.await("ListDeadLetters", async.deadLetters(pageSize, pageToken));
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
    return CallRunner.await("ReplayDeadLetters", async.replayDeadLetters(entryIds));
  }

  /**
   * Puts every dead letter back on the persistence stream.
   *
   * @return how many entries were replayed
   * @throws MessageStoreException if the call fails
   */
  public long replayAllDeadLetters() {
    return CallRunner.await("ReplayDeadLetters", async.replayAllDeadLetters());
  }

  /**
   * Starts a background job that warms Redis with one thread from PostgreSQL.
   *
   * @return the job id; its progress shows in {@link #tierStatus()}
   * @throws MessageStoreException if the call fails
   */
  public String rebuildThread(String threadId) {
    return CallRunner.await("RebuildCache", async.rebuildThread(threadId));
  }

  /**
   * Starts a background job that warms Redis with the {@code threads} most recently active
   * threads.
   *
   * @return the job id; its progress shows in {@link #tierStatus()}
   * @throws MessageStoreException if the call fails
   */
  public String rebuildRecentThreads(int threads) {
    return CallRunner.await("RebuildCache", async.rebuildRecentThreads(threads));
  }

  /**
   * Compares the tiers for the request's scope (a message, a thread or a time window) and
   * optionally repairs what it can. Without repair it is retried as a read.
   *
   * @throws MessageStoreException if the call fails
   */
  public CheckConsistencyResponse checkConsistency(CheckConsistencyRequest request) {
    return CallRunner.await("CheckConsistency", async.checkConsistency(request));
  }
}
