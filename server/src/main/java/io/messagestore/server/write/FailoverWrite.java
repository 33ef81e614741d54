package io.messagestore.server.write;

import io.lettuce.core.RedisCommandTimeoutException;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.postgres.FailoverRows;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.pump.CommitQueue;
import io.messagestore.server.pump.GroupCommit;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * The write path's way around Redis: messages Redis could not take go into PostgreSQL before the
 * answer, group-committed with the failover writes of other callers ({@link CommitQueue}): the
 * requests that arrive together share one claim of their threads, one insert statement and one
 * commit ({@link FailoverRows}), which stores each permitted request whole or not at all and
 * marks each thread for the Redis repair once ({@link FailoverRepair}). A request PostgreSQL
 * refuses fails alone: the group is then committed request by request.
 */
public final class FailoverWrite implements AutoCloseable {
  /** The most messages one group commit takes (a request of {@value WritePath#MAX_BATCH} always fits). */
  static final int MAX_GROUP_MESSAGES = 1000;
  private final FailoverRows rows;
  private final TierBreakers breakers;
  private final FailoverRepair repairs;
  private final ThreadAccess access;
  private final Counter failovers;
  private final CommitQueue<Request> queue;

  /** One request on its way through a group commit. */
  private static final class Request {
    final Caller caller;
    final FailoverRows.Write write;
    /** Set by the transaction that committed it, before its future completes. */
    volatile FailoverRows.Stored stored;

    Request(Caller caller, FailoverRows.Write write) {
      this.caller = caller;
      this.write = write;
    }
  }

  /**
   * @param linger how long the first request of a group waits for others
   * @param committers groups committing at once: the next group forms and goes to PostgreSQL
   *     while the previous one waits for its commit (thread rows are locked in thread order, so
   *     two groups writing the same threads wait for each other rather than deadlock)
   * @param completions where the callers' answers are completed (off the committing thread)
   */
  public FailoverWrite(FailoverRows rows, TierBreakers breakers, FailoverRepair repairs, ThreadAccess access,
      Duration linger, int committers, Executor completions, MeterRegistry meters) {
    this.rows = rows;
    this.breakers = breakers;
    this.repairs = repairs;
    this.access = access;
    this.failovers = Counter.builder("messagestore.write.failovers").tag("reason", WritePath.REDIS_UNAVAILABLE)
        .description("writes acknowledged by PostgreSQL because Redis could not take them").register(meters);
    DistributionSummary groupRequests = DistributionSummary.builder("messagestore.write.failover.group.requests")
        .description("requests (SendMessage or SendMessageBatch calls) per failover group commit").register(meters);
    DistributionSummary groupMessages = DistributionSummary.builder("messagestore.write.failover.group.messages")
        .description("messages per failover group commit").register(meters);
    this.queue = new CommitQueue<>("failover-commits", committers,
        new GroupCommit<>(this::commit, PostgresTier::isConnectivityFailure),
        r -> r.write.messages().size(), MAX_GROUP_MESSAGES, linger, completions, g -> {
          groupRequests.record(g.items());
          groupMessages.record(g.weight());
        });
  }

  /**
   * Redis could not take the write: store it in PostgreSQL, all or nothing, with the concurrent
   * failover writes of other callers.
   *
   * @param redisFailure why Redis could not take it (a timeout leaves open whether it did)
   */
  CompletableFuture<List<SendMessageResponse>> store(Caller caller, String threadId, List<Message> messages,
      List<SendMessageRequest> requests, Throwable redisFailure) {
    List<String> idem = new ArrayList<>(requests.size());
    requests.forEach(r -> idem.add(r.getIdempotencyKey()));
    Request request = new Request(caller, new FailoverRows.Write(threadId, caller.userId(), messages, idem));
    return queue.submit(request).handle((committed, failure) -> {
      if (failure != null) {
        throw new CompletionException(explain(GuardedCall.unwrap(failure), redisFailure));
      }
      return answer(request, caller, threadId, messages, idem);
    });
  }

  /** Commits the messages of several requests in one transaction (one attempt of the group commit). */
  private void commit(List<Request> group) throws Exception {
    List<FailoverRows.Write> writes = new ArrayList<>(group.size());
    group.forEach(r -> writes.add(r.write));
    List<FailoverRows.Stored> stored = breakers.postgresWrite().callBlocking(
        () -> rows.store(writes, (i, owner) -> access.mayWrite(group.get(i).caller, owner)));
    Set<String> writtenAround = new LinkedHashSet<>();
    for (int i = 0; i < group.size(); i++) {
      group.get(i).stored = stored.get(i);
      if (!stored.get(i).inserted().isEmpty()) {
        writtenAround.add(group.get(i).write.threadId());
      }
    }
    writtenAround.forEach(repairs::wroteAroundRedis);
  }

  private List<SendMessageResponse> answer(Request request, Caller caller, String threadId, List<Message> messages,
      List<String> idem) {
    FailoverRows.Stored stored = request.stored;
    if (stored.denied()) {
      throw access.denied(threadId, caller);
    }
    List<SendMessageResponse> out = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      SendMessageResponse.Builder b = SendMessageResponse.newBuilder()
          .setAcknowledgedBy(Tier.TIER_POSTGRES).setFailoverReason(WritePath.REDIS_UNAVAILABLE);
      if (stored.inserted().contains(m.getMessageId())) {
        b.setMessage(m);
      } else {
        // Not new: its id was stored before (the Redis script ran after all and was persisted),
        // or its key is held already (a duplicate, answered with the message holding it).
        Message first = idem.get(i).isEmpty() ? null : stored.firstByKey().get(idem.get(i));
        b.setMessage(first == null ? m : first).setDuplicate(first != null);
      }
      out.add(b.build());
    }
    failovers.increment(messages.size());
    return out;
  }

  /** What the caller is told when the group commit did not store the request. */
  private StoreError explain(Throwable failure, Throwable redisFailure) {
    if (failure instanceof StoreError e) {
      return e;
    }
    if (breakers.postgresWrite().refusesValue(failure)) {
      return breakers.postgresWrite().explain(failure, null);
    }
    // A Redis timeout leaves the outcome open: the script may have run after all, in which
    // case the message is persisted later. Only a refused Redis call means nothing was stored.
    boolean maybe = GuardedCall.unwrap(redisFailure) instanceof RedisCommandTimeoutException;
    String outcome = maybe
        ? "the Redis write timed out and may still have been applied; retry with the same idempotency_key"
        : "nothing was stored";
    return new StoreError.TierUnavailable("no tier can take the write, " + outcome + ": redis: "
        + StoreError.describe(redisFailure) + "; postgres: " + StoreError.describe(failure),
        maybe ? Stored.MAYBE : Stored.NOTHING, failure);
  }

  /** Commits the requests already queued, then refuses new ones. */
  @Override
  public void close() {
    queue.close();
  }
}
