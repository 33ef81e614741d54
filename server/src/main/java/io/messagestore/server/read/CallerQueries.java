package io.messagestore.server.read;

import io.grpc.Context;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.QueryCancellation;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.resilience.TierBreakers;
import java.sql.SQLException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;

/**
 * Lower-tier reads made for one caller: none is started for a caller that has gone away (cancel
 * or deadline), and a PostgreSQL query already running is cancelled in PostgreSQL when it goes,
 * without counting against the {@code postgres-read} breaker.
 */
final class CallerQueries {
  private final TierBreakers breakers;
  private final Executor blocking;

  CallerQueries(TierBreakers breakers, Executor blocking) {
    this.breakers = breakers;
    this.blocking = blocking;
  }

  /** A PostgreSQL query that can be told to stop when nobody waits for it any more. */
  @FunctionalInterface
  interface CancellableQuery<T> {
    T run(QueryCancellation cancellation) throws Exception;
  }

  /**
   * Runs a PostgreSQL read for {@code caller} under the read breaker, cancelled in PostgreSQL
   * when the caller goes away; a query failing because of that is a cancellation, which the
   * breaker does not count against PostgreSQL.
   */
  <T> T postgres(Context caller, CancellableQuery<T> query) throws Exception {
    return breakers.postgresRead().callBlocking(
        () -> cancelledIfCallerLeft(caller, () -> query.run(whenCallerLeaves(caller))));
  }

  /** What a failed PostgreSQL read tells the caller (see {@link TierBreaker#explain}). */
  StoreError explain(Throwable failure, String context) {
    return breakers.postgresRead().explain(failure, context);
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

  /** The caller went away or its deadline passed: no lower-tier work on its behalf. */
  static void checkNotCancelled(Context caller) {
    if (caller.isCancelled()) {
      throw new StoreError.Cancelled("caller cancelled or deadline exceeded before the lower-tier read");
    }
  }
}
