package io.messagestore.server.api.grpc;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.Inconsistency;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.ListDeadLettersRequest;
import io.messagestore.api.v1.ListDeadLettersResponse;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.RebuildCacheRequest;
import io.messagestore.api.v1.RebuildCacheResponse;
import io.messagestore.api.v1.ReplayDeadLettersRequest;
import io.messagestore.api.v1.ReplayDeadLettersResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TierStatus;
import io.messagestore.server.archive.Archiver;
import io.messagestore.server.consistency.ConsistencyChecker;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.consistency.Finding;
import io.messagestore.server.consistency.Scope;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.health.TierHealthMonitor;
import io.messagestore.server.health.TierSnapshot;
import io.messagestore.server.persistence.DeadLetters;
import io.messagestore.server.persistence.StreamBacklog;
import io.messagestore.server.read.CacheRebuilder;
import io.messagestore.server.read.PageTokens;
import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.write.SendRequestValidator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

/** Operator RPCs; the admin-role check sits in front of this service (AdminOnlyInterceptor). */
public final class AdminService extends MessageStoreAdminGrpc.MessageStoreAdminImplBase {
  private static final int DEFAULT_DEAD_LETTER_PAGE = 100;

  private final TierHealthMonitor health;
  private final TierBreakers breakers;
  private final StreamBacklog backlog;
  private final DeadLetters deadLetters;
  private final PageTokens tokens;
  private final Executor blocking;
  private final CacheRebuilder rebuilder;
  private final FailoverRepair repairs;
  private final Archiver archiver;
  private final ConsistencyChecker checker;

  public AdminService(TierHealthMonitor health, TierBreakers breakers, StreamBacklog backlog, DeadLetters deadLetters,
      PageTokens tokens, Executor blocking, CacheRebuilder rebuilder, FailoverRepair repairs,
      Archiver archiver, ConsistencyChecker checker) {
    this.checker = checker;
    this.archiver = archiver;
    this.rebuilder = rebuilder;
    this.repairs = repairs;
    this.health = health;
    this.breakers = breakers;
    this.backlog = backlog;
    this.deadLetters = deadLetters;
    this.tokens = tokens;
    this.blocking = blocking;
  }

  @Override
  public void getTierStatus(GetTierStatusRequest request, StreamObserver<GetTierStatusResponse> observer) {
    observer.onNext(GetTierStatusResponse.newBuilder()
        .addTiers(status(Tier.TIER_REDIS, health.redis(), breakers.redisRead(), breakers.redisWrite()))
        .addTiers(status(Tier.TIER_POSTGRES, health.postgres(), breakers.postgresRead(), breakers.postgresWrite()))
        .addTiers(status(Tier.TIER_CLICKHOUSE, health.clickhouse(), breakers.clickhouseRead(),
            breakers.clickhouseWrite()))
        .setStreamBacklog(backlog.total())
        .setOldestPendingAgeMillis(backlog.oldestAgeMillis())
        .setDeadLetters(backlog.deadLetters())
        .addAllCacheRebuilds(rebuilder.statuses())
        .setThreadsAwaitingRedisRepair(repairs.threadsAwaitingRepair())
        .setArchiver(archiver.status())
        .addAllPendingErasures(archiver.pendingErasures())
        .build());
    observer.onCompleted();
  }

  private TierStatus status(Tier tier, TierSnapshot s, TierBreaker readBreaker, TierBreaker writeBreaker) {
    return TierStatus.newBuilder()
        .setTier(tier)
        .setReachable(s.reachable())
        .setReadBreakerState(readBreaker.state().name())
        .setWriteBreakerState(writeBreaker.state().name())
        .setProbeLatencyMicros(s.probeLatencyMicros())
        .setDetail(s.detail())
        .addAllWarnings(s.warnings())
        .build();
  }

  @Override
  public void listDeadLetters(ListDeadLettersRequest request, StreamObserver<ListDeadLettersResponse> observer) {
    int size = request.getPageSize() == 0 ? DEFAULT_DEAD_LETTER_PAGE : request.getPageSize();
    if (size < 1 || size > 1000) {
      observer.onError(Replies.toStatus(new StoreError.Invalid("page_size must be 1-1000")));
      return;
    }
    Replies.reply(observer, () -> CompletableFuture.supplyAsync(() -> {
      String after = request.getPageToken().isEmpty() ? null : tokens.decode(request.getPageToken(), "deadletters", false);
      try {
        List<DeadLetters.Entry> entries = deadLetters.list(after, size);
        ListDeadLettersResponse.Builder b = ListDeadLettersResponse.newBuilder().setTotal(deadLetters.count());
        for (DeadLetters.Entry e : entries) {
          long ms = Long.parseLong(e.id().substring(0, e.id().indexOf('-')));
          b.addDeadLetters(DeadLetter.newBuilder()
              .setEntryId(e.id())
              .setThreadId(e.threadId())
              .setMessageId(e.messageId())
              .setLastError(e.lastError())
              .setDeliveryCount(e.deliveries())
              .setDeadLetteredAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000)));
        }
        if (entries.size() == size) {
          b.setNextPageToken(tokens.encode("deadletters", false, entries.get(entries.size() - 1).id()));
        }
        return b.build();
      } catch (Exception e) {
        throw new StoreError.TierUnavailable("redis unavailable: " + e.getMessage(), Stored.NOTHING, e);
      }
    }, blocking));
  }

  @Override
  public void replayDeadLetters(ReplayDeadLettersRequest request, StreamObserver<ReplayDeadLettersResponse> observer) {
    Replies.reply(observer, () -> CompletableFuture.supplyAsync(() -> {
      try {
        long n = deadLetters.replay(request.getEntryIdsList(), Duration.ofSeconds(5));
        return ReplayDeadLettersResponse.newBuilder().setReplayed(n).build();
      } catch (StoreError e) {
        throw e;
      } catch (Exception e) {
        // Entries replayed before the failure stay replayed.
        throw new StoreError.TierUnavailable("redis unavailable: " + e.getMessage(), Stored.MAYBE, e);
      }
    }, blocking));
  }

  @Override
  public void checkConsistency(CheckConsistencyRequest request, StreamObserver<CheckConsistencyResponse> observer) {
    Scope scope;
    try {
      scope = scopeOf(request);
    } catch (RuntimeException e) {
      observer.onError(Replies.toStatus(e));
      return;
    }
    Context caller = Context.current();
    BooleanSupplier expired = () -> caller.isCancelled()
        || (caller.getDeadline() != null && caller.getDeadline().isExpired());
    Replies.reply(observer, () -> checker.check(scope, request.getRepair(), expired).thenApply(result -> {
      CheckConsistencyResponse.Builder b = CheckConsistencyResponse.newBuilder()
          .setCheckedMessages(result.checked())
          .setScore(result.score());
      for (Finding f : result.findings()) {
        b.addInconsistencies(Inconsistency.newBuilder().setThreadId(f.threadId()).setMessageId(f.messageId())
            .setKind(f.kind().label()).setDetail(f.detail()).setRepaired(f.repaired()));
      }
      return b.build();
    }));
  }

  /** Exactly one scope: a message (thread + id), a thread, or a window of creation times. */
  static Scope scopeOf(CheckConsistencyRequest r) {
    boolean window = r.hasWindowStart() || r.hasWindowEnd();
    boolean thread = !r.getThreadId().isEmpty();
    if (!r.getMessageId().isEmpty() && !thread) {
      throw new StoreError.Invalid("message_id needs its thread_id: give both to check one message");
    }
    if (window && thread) {
      throw new StoreError.Invalid("give one scope: a message (thread_id + message_id), a thread (thread_id), "
          + "or a window (window_start + window_end), not a thread and a window");
    }
    if (!window && !thread) {
      throw new StoreError.Invalid("no scope: give a message (thread_id + message_id), a thread (thread_id), "
          + "or a window (window_start + window_end)");
    }
    if (window) {
      if (!r.hasWindowStart() || !r.hasWindowEnd()) {
        throw new StoreError.Invalid("a window needs both window_start and window_end");
      }
      Instant start = instant(r.getWindowStart(), "window_start");
      Instant end = instant(r.getWindowEnd(), "window_end");
      if (end.isBefore(start)) {
        throw new StoreError.Invalid("window_end (" + end + ") is before window_start (" + start + ")");
      }
      return new Scope.Window(start, end);
    }
    SendRequestValidator.checkThreadId(r.getThreadId(), "thread_id");
    if (r.getMessageId().isEmpty()) {
      return new Scope.OneThread(r.getThreadId());
    }
    return new Scope.OneMessage(r.getThreadId(), canonicalId(r.getMessageId()));
  }

  private static Instant instant(Timestamp t, String field) {
    if (t.getSeconds() < 0 || t.getSeconds() > 253_402_300_799L || t.getNanos() < 0 || t.getNanos() > 999_999_999) {
      throw new StoreError.Invalid(field + " is not a valid timestamp (seconds " + t.getSeconds() + ", nanos "
          + t.getNanos() + ")");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static String canonicalId(String id) {
    try {
      String canonical = UUID.fromString(id).toString();
      if (canonical.equalsIgnoreCase(id)) {
        return canonical;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new StoreError.Invalid("message_id '" + id + "' is not a message id (a UUID)");
  }

  @Override
  public void rebuildCache(RebuildCacheRequest request, StreamObserver<RebuildCacheResponse> observer) {
    Optional<String> thread = request.getThreadId().isEmpty() ? Optional.empty() : Optional.of(request.getThreadId());
    int recent = request.getRecentThreads();
    try {
      thread.ifPresent(t -> SendRequestValidator.checkThreadId(t, "thread_id"));
      if (thread.isEmpty() && (recent < 1 || recent > 1_000_000)) {
        throw new StoreError.Invalid("give thread_id, or recent_threads between 1 and 1000000 (got " + recent + ")");
      }
    } catch (RuntimeException e) {
      observer.onError(Replies.toStatus(e));
      return;
    }
    observer.onNext(RebuildCacheResponse.newBuilder().setJobId(rebuilder.start(thread, recent)).build());
    observer.onCompleted();
  }
}
