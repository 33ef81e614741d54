package io.messagestore.server.read;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.clickhouse.MessageFacts;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.write.SendRequestValidator;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * GetThreadStats: the thread's analytics from ClickHouse ({@code message_facts}), after the same
 * read check as every read (owner or admin). The facts arrive through the analytics feed, about
 * a second after their messages' PostgreSQL commit while ClickHouse is up; while it is away,
 * they wait in PostgreSQL and this call answers UNAVAILABLE (writes and reads are unaffected).
 */
public final class ThreadStatsRead {
  private final ThreadAccess access;
  private final MessageFacts facts;
  private final TierBreakers breakers;
  private final Executor blocking;

  public ThreadStatsRead(ThreadAccess access, MessageFacts facts, TierBreakers breakers, Executor blocking) {
    this.access = access;
    this.facts = facts;
    this.breakers = breakers;
    this.blocking = blocking;
  }

  public CompletableFuture<GetThreadStatsResponse> stats(Caller caller, String threadId) {
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    return access.checkRead(caller, threadId).thenApplyAsync(v -> {
      MessageFacts.ThreadStats stats;
      try {
        stats = breakers.clickhouseRead().callBlocking(() -> facts.stats(threadId));
      } catch (Exception e) {
        throw breakers.clickhouseRead().explain(e, "thread statistics are read from ClickHouse");
      }
      GetThreadStatsResponse.Builder response = GetThreadStatsResponse.newBuilder()
          .setThreadId(threadId)
          .setMessageCount(stats.messageCount())
          .putAllMessagesByRole(stats.messagesByRole())
          .setTotalContentBytes(stats.totalContentBytes());
      stats.firstMessageAt().ifPresent(t -> response.setFirstMessageAt(timestamp(t)));
      stats.lastMessageAt().ifPresent(t -> response.setLastMessageAt(timestamp(t)));
      return response.build();
    }, blocking);
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
