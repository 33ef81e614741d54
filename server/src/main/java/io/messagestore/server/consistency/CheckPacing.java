package io.messagestore.server.consistency;

import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;

/**
 * Keeps a check from starving the request path: while callers keep the gateway busy, a check
 * pauses after each page for {@link #BUSY_PAUSE_FACTOR} times as long as the page took, so that
 * it takes at most a fifth of a core; on an idle gateway it runs flat out. An operator's check
 * of a large scope takes longer on a busy gateway: that is the trade.
 */
final class CheckPacing {
  /** Calls per second at which the request path counts as busy (the archiver's threshold too). */
  static final double BUSY_REQUEST_RATE = 20;
  static final int BUSY_PAUSE_FACTOR = 4;
  /** How often a pause looks again at the request rate and the caller's deadline. */
  private static final long STEP_NANOS = 10_000_000;

  private final DoubleSupplier requestRate;
  private long workStarted = System.nanoTime();

  CheckPacing(DoubleSupplier requestRate) {
    this.requestRate = requestRate;
  }

  /** Called between pages: pauses while the request path is busy, or until {@code stop} says so. */
  void betweenPages(BooleanSupplier stop) throws InterruptedException {
    long worked = System.nanoTime() - workStarted;
    long pauseUntil = System.nanoTime() + worked * BUSY_PAUSE_FACTOR;
    while (System.nanoTime() < pauseUntil && requestRate.getAsDouble() > BUSY_REQUEST_RATE && !stop.getAsBoolean()) {
      Thread.sleep(Math.max(1, Math.min(STEP_NANOS, pauseUntil - System.nanoTime()) / 1_000_000));
    }
    workStarted = System.nanoTime();
  }
}
