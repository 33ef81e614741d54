package io.messagestore.client;

import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.ListDeadLettersRequest;
import io.messagestore.api.v1.ListDeadLettersResponse;
import io.messagestore.api.v1.MessageStoreAdminGrpc.MessageStoreAdminFutureStub;
import io.messagestore.api.v1.RebuildCacheRequest;
import io.messagestore.api.v1.RebuildCacheResponse;
import io.messagestore.api.v1.ReplayDeadLettersRequest;
import io.messagestore.client.internal.CallRunner;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The operator calls of {@code messagestore.v1.MessageStoreAdmin}, asynchronous: from
 * {@link MessageStoreAsyncClient#admin()}, with the blocking twin
 * {@link MessageStoreAdminClient} (whose documentation describes each call). Every call needs
 * a token with the {@code admin} role. Reads are retried by the {@link CallType#READ} policy,
 * the others by {@link CallType#OTHER_WRITE}. Thread-safe.
 */
public final class MessageStoreAdminAsyncClient {
  private final MessageStoreAdminFutureStub stub;
  private final CallRunner calls;
  private final MessageStoreClientOptions options;

  MessageStoreAdminAsyncClient(MessageStoreAdminFutureStub stub, CallRunner calls,
      MessageStoreClientOptions options) {
    this.stub = stub;
    this.calls = calls;
    this.options = options;
  }

  /** Tier reachability, breakers, backlog, dead letters and jobs as the answering gateway sees them. */
  public CompletableFuture<GetTierStatusResponse> tierStatus() {
    return calls.call("GetTierStatus", options.retryPolicy(CallType.READ),
        d -> stub.withDeadline(d).getTierStatus(GetTierStatusRequest.getDefaultInstance()));
  }

  /**
   * One page of dead letters.
   *
   * @param pageSize 1-1000
   * @param pageToken "" for the first page
   */
  public CompletableFuture<ListDeadLettersResponse> deadLetters(int pageSize, String pageToken) {
    ListDeadLettersRequest request = ListDeadLettersRequest.newBuilder()
        .setPageSize(pageSize)
        .setPageToken(Objects.requireNonNull(pageToken, "pageToken"))
        .build();
    return calls.call("ListDeadLetters", options.retryPolicy(CallType.READ),
        d -> stub.withDeadline(d).listDeadLetters(request));
  }

  /**
   * Puts the given dead letters back on the persistence stream; completes with how many.
   *
   * @throws IllegalArgumentException if {@code entryIds} is empty (an empty list means "all"
   *     on the wire: use {@link #replayAllDeadLetters()} for that)
   */
  public CompletableFuture<Long> replayDeadLetters(List<String> entryIds) {
    Objects.requireNonNull(entryIds, "entryIds");
    if (entryIds.isEmpty()) {
      throw new IllegalArgumentException("entryIds must not be empty; use replayAllDeadLetters()");
    }
    return replay(ReplayDeadLettersRequest.newBuilder().addAllEntryIds(entryIds).build());
  }

  /** Puts every dead letter back on the persistence stream; completes with how many. */
  public CompletableFuture<Long> replayAllDeadLetters() {
    return replay(ReplayDeadLettersRequest.getDefaultInstance());
  }

  private CompletableFuture<Long> replay(ReplayDeadLettersRequest request) {
    return CallRunner.map(calls.call("ReplayDeadLetters", options.retryPolicy(CallType.OTHER_WRITE),
        d -> stub.withDeadline(d).replayDeadLetters(request)), r -> r.getReplayed());
  }

  /** Starts warming Redis with one thread; completes with the job id. */
  public CompletableFuture<String> rebuildThread(String threadId) {
    return rebuild(RebuildCacheRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId")).build());
  }

  /** Starts warming Redis with the most recently active threads; completes with the job id. */
  public CompletableFuture<String> rebuildRecentThreads(int threads) {
    return rebuild(RebuildCacheRequest.newBuilder().setRecentThreads(threads).build());
  }

  private CompletableFuture<String> rebuild(RebuildCacheRequest request) {
    return CallRunner.map(calls.call("RebuildCache", options.retryPolicy(CallType.OTHER_WRITE),
        d -> stub.withDeadline(d).rebuildCache(request)), RebuildCacheResponse::getJobId);
  }

  /**
   * Compares the tiers for the request's scope and repairs when asked. Without repair it is a
   * read (retried as one); with repair an other write.
   */
  public CompletableFuture<CheckConsistencyResponse> checkConsistency(CheckConsistencyRequest request) {
    Objects.requireNonNull(request, "request");
    CallType type = request.getRepair() ? CallType.OTHER_WRITE : CallType.READ;
    return calls.call("CheckConsistency", options.retryPolicy(type),
        d -> stub.withDeadline(d).checkConsistency(request));
  }
}
