package io.messagestore.server.resilience;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;

/**
 * The pauses between attempts at something that keeps failing (a tier that is away), from a
 * resilience4j {@link IntervalFunction}, counting the failures since the last success. Loops
 * that retry for as long as they run (the batch pump, the pub/sub subscriber) take their
 * pauses from here instead of doubling a duration by hand.
 *
 * <p>Not thread-safe: one per retrying loop.
 */
public final class Backoff {
  private final IntervalFunction intervals;
  private final long longestMillis;
  private int failures;

  private Backoff(IntervalFunction intervals, Duration longest) {
    this.intervals = intervals;
    this.longestMillis = longest.toMillis();
  }

  /** Pauses that start at {@code shortest} and double with each failure up to {@code longest}. */
  public static Backoff exponential(Duration shortest, Duration longest) {
    if (shortest.isNegative() || shortest.isZero() || longest.compareTo(shortest) < 0) {
      throw new IllegalArgumentException("backoff from " + shortest + " to " + longest);
    }
    return new Backoff(IntervalFunction.ofExponentialBackoff(shortest, 2.0, longest), longest);
  }

  /** Counts a failure; returns the pause before the next attempt. */
  public Duration next() {
    if (failures < Integer.MAX_VALUE) {
      failures++;
    }
    return Duration.ofMillis(intervals.apply(failures));
  }

  /**
   * Whether the next failure's pause is the longest: retrying has gone on for a while (from 50 ms
   * to 1 s, five failures).
   */
  public boolean atLongest() {
    int upcoming = failures < Integer.MAX_VALUE ? failures + 1 : failures;
    return intervals.apply(upcoming) >= longestMillis;
  }

  /** An attempt succeeded: the next failure starts from the shortest pause again. */
  public void reset() {
    failures = 0;
  }
}
