package io.messagestore.client.internal;

import io.messagestore.client.RetryPolicy;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;

/** Pauses between attempts: the policy's backoff with jitter, and the timer that waits them out. */
public final class Backoff {
  private static final ScheduledExecutorService TIMER = timer();

  private Backoff() {}

  /**
   * The pause after {@code failedAttempts} failed attempts, drawn from
   * {@code [b * (1 - jitter), b]}: jitter spreads the retries of many clients that lost the same
   * gateway at the same moment.
   */
  public static Duration delay(RetryPolicy policy, int failedAttempts) {
    long cap = policy.backoff(failedAttempts).toNanos();
    long random = (long) (cap * policy.jitter() * ThreadLocalRandom.current().nextDouble());
    return Duration.ofNanos(cap - random);
  }

  /**
   * One daemon thread for every client of the JVM: it only hands each waited-out retry to
   * gRPC, which does the work on its own threads, so one is plenty and no client must close it.
   */
  public static ScheduledExecutorService timer() {
    if (TIMER != null) {
      return TIMER;
    }
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "messagestore-client-retries");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
