package io.messagestore.server.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline: the tests' only way to wait. */
public final class Poll {
  private Poll() {}

  /**
   * Returns once {@code condition} holds. An exception from it counts as "not yet" (e.g. a tier
   * still starting); on timeout the last one is reported, so that a refusal that never went
   * away (say PERMISSION_DENIED) does not look like mere slowness.
   */
  public static void until(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException lastFailure = null;
    boolean lastAttemptFailed = false;
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
        lastAttemptFailed = false;
      } catch (RuntimeException e) {
        lastFailure = e;
        lastAttemptFailed = true;
      }
      if (System.nanoTime() > deadline) {
        String message = "timed out after " + timeout + " waiting for " + what;
        if (lastFailure != null) {
          message += (lastAttemptFailed ? "; the last attempt failed with " : "; an earlier attempt failed with ")
              + lastFailure;
        }
        throw new AssertionError(message, lastFailure);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
