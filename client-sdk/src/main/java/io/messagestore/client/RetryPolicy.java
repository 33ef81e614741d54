package io.messagestore.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * When and how often a failed call is tried again: attempts, exponential backoff with jitter, a
 * total deadline and the status codes that count as passing trouble.
 *
 * <p>Attempt {@code n} (counting from 1) that fails with a {@linkplain #retryableCodes()
 * retryable} code is followed by attempt {@code n + 1} after a pause drawn at random from
 * {@code [b * (1 - jitter), b]}, where {@code b = min(maxBackoff, initialBackoff *
 * multiplier^(n-1))}, unless {@link #maxAttempts()} is reached or the pause would end past the
 * {@linkplain #totalDeadline() total deadline}. Every attempt gets the client's per-call
 * deadline, cut short by the total deadline. {@code DEADLINE_EXCEEDED} (when it is among the
 * retryable codes) is therefore retried only when the attempt ran into its own deadline and
 * the total deadline still leaves room.
 *
 * <p>Which calls use which policy is set per {@link CallType} in
 * {@link MessageStoreClientOptions}; {@link #NONE} turns retries off.
 *
 * <p>Immutable and thread-safe. Builder setters validate at once and name the rejected value.
 *
 * <pre>{@code
 * RetryPolicy patient = RetryPolicy.builder()
 *     .maxAttempts(10)
 *     .initialBackoff(Duration.ofMillis(50))
 *     .maxBackoff(Duration.ofSeconds(2))
 *     .totalDeadline(Duration.ofSeconds(20))
 *     .build();
 * }</pre>
 */
public final class RetryPolicy {

  /** Attempts of one logical call, the first included: 5. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;

  /** Pause before the second attempt: 100 ms. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);

  /** Longest pause between two attempts: 5 s. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(5);

  /** Growth of the pause from one attempt to the next: 2. */
  public static final double DEFAULT_BACKOFF_MULTIPLIER = 2.0;

  /** Share of each pause that is random, so that many clients do not retry in step: 0.5. */
  public static final double DEFAULT_JITTER = 0.5;

  /** Time from the first attempt after which no further attempt starts: 30 s. */
  public static final Duration DEFAULT_TOTAL_DEADLINE = Duration.ofSeconds(30);

  /**
   * The codes retried by default: {@code UNAVAILABLE} (no gateway reachable, or one shutting
   * down), {@code RESOURCE_EXHAUSTED} (backlog bound or watcher limit: nothing was done) and
   * {@code DEADLINE_EXCEEDED} (an attempt ran out of time).
   */
  public static final Set<Status.Code> DEFAULT_RETRYABLE_CODES = Set.copyOf(EnumSet.of(
      Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED));

  /** The default policy: every value at its {@code DEFAULT_*} constant. */
  public static final RetryPolicy DEFAULT = builder().build();

  /** No retries: one attempt only. */
  public static final RetryPolicy NONE = builder().maxAttempts(1).build();

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final double multiplier;
  private final double jitter;
  private final Duration totalDeadline;
  private final Set<Status.Code> retryableCodes;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.multiplier = b.multiplier;
    this.jitter = b.jitter;
    this.totalDeadline = b.totalDeadline;
    this.retryableCodes = Set.copyOf(b.retryableCodes);
  }

  /** Returns a builder that starts from {@link #DEFAULT}'s values. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder that starts from this policy's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxAttempts = maxAttempts;
    b.initialBackoff = initialBackoff;
    b.maxBackoff = maxBackoff;
    b.multiplier = multiplier;
    b.jitter = jitter;
    b.totalDeadline = totalDeadline;
    b.retryableCodes = EnumSet.copyOf(retryableCodes);
    return b;
  }

  /** Attempts of one logical call, the first included; 1 means no retries. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** The pause before the second attempt. */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** The longest pause between two attempts. */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** The factor by which each pause grows. */
  public double backoffMultiplier() {
    return multiplier;
  }

  /** The random share of each pause, between 0 (none) and 1 (anything from 0 to the pause). */
  public double jitter() {
    return jitter;
  }

  /** The time from the first attempt after which no attempt starts; empty for none. */
  public Optional<Duration> totalDeadline() {
    return Optional.ofNullable(totalDeadline);
  }

  /** The status codes after which another attempt is made. */
  public Set<Status.Code> retryableCodes() {
    return retryableCodes;
  }

  /** Whether this policy ever makes a second attempt. */
  public boolean retries() {
    return maxAttempts > 1 && !retryableCodes.isEmpty();
  }

  /**
   * The pause before attempt {@code failedAttempts + 1}, before jitter: the backoff that grows
   * from {@link #initialBackoff()} by {@link #backoffMultiplier()} up to {@link #maxBackoff()}.
   *
   * @param failedAttempts attempts that failed so far, at least 1
   */
  public Duration backoff(int failedAttempts) {
    if (failedAttempts < 1) {
      throw new IllegalArgumentException("failedAttempts must be at least 1, got " + failedAttempts);
    }
    double nanos = initialBackoff.toNanos() * Math.pow(multiplier, failedAttempts - 1);
    return nanos >= maxBackoff.toNanos() ? maxBackoff : Duration.ofNanos((long) nanos);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryPolicy other
        && maxAttempts == other.maxAttempts
        && initialBackoff.equals(other.initialBackoff)
        && maxBackoff.equals(other.maxBackoff)
        && multiplier == other.multiplier
        && jitter == other.jitter
        && Objects.equals(totalDeadline, other.totalDeadline)
        && retryableCodes.equals(other.retryableCodes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts, initialBackoff, maxBackoff, multiplier, jitter, totalDeadline,
        retryableCodes);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff
        + ", maxBackoff=" + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter
        + ", totalDeadline=" + totalDeadline + ", retryableCodes=" + EnumSet.copyOf(retryableCodes)
        + "}";
  }

  /** Builds a {@link RetryPolicy}; not thread-safe. */
  public static final class Builder {
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private double multiplier = DEFAULT_BACKOFF_MULTIPLIER;
    private double jitter = DEFAULT_JITTER;
    private Duration totalDeadline = DEFAULT_TOTAL_DEADLINE;
    private Set<Status.Code> retryableCodes = EnumSet.copyOf(DEFAULT_RETRYABLE_CODES);

    private Builder() {}

    /**
     * Sets the attempts of one logical call, the first included.
     *
     * @throws IllegalArgumentException if {@code maxAttempts} is less than 1
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Allows any number of attempts; the total deadline, if any, still ends them. */
    public Builder unlimitedAttempts() {
      this.maxAttempts = Integer.MAX_VALUE;
      return this;
    }

    /**
     * Sets the pause before the second attempt.
     *
     * @throws IllegalArgumentException if null or negative
     */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = nonNegative("initialBackoff", initialBackoff);
      return this;
    }

    /**
     * Sets the longest pause between two attempts.
     *
     * @throws IllegalArgumentException if null or negative
     */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = nonNegative("maxBackoff", maxBackoff);
      return this;
    }

    /**
     * Sets the factor by which each pause grows.
     *
     * @throws IllegalArgumentException if less than 1 or not a number
     */
    public Builder backoffMultiplier(double multiplier) {
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("backoffMultiplier must be at least 1, got " + multiplier);
      }
      this.multiplier = multiplier;
      return this;
    }

    /**
     * Sets the random share of each pause.
     *
     * @throws IllegalArgumentException if outside 0..1
     */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0.0 && jitter <= 1.0)) {
        throw new IllegalArgumentException("jitter must be between 0 and 1, got " + jitter);
      }
      this.jitter = jitter;
      return this;
    }

    /**
     * Sets the time from the first attempt after which no attempt starts.
     *
     * @throws IllegalArgumentException if null, zero or negative
     */
    public Builder totalDeadline(Duration totalDeadline) {
      if (totalDeadline == null) {
        throw new IllegalArgumentException("totalDeadline must not be null; use noTotalDeadline()");
      }
      if (totalDeadline.isZero() || totalDeadline.isNegative()) {
        throw new IllegalArgumentException("totalDeadline must be positive, got " + totalDeadline);
      }
      this.totalDeadline = totalDeadline;
      return this;
    }

    /** Removes the total deadline: attempts stop only at {@link #maxAttempts(int)}. */
    public Builder noTotalDeadline() {
      this.totalDeadline = null;
      return this;
    }

    /**
     * Sets the status codes after which another attempt is made. Codes that say the request
     * itself is wrong ({@code INVALID_ARGUMENT}, {@code PERMISSION_DENIED},
     * {@code UNAUTHENTICATED}, {@code NOT_FOUND}, {@code ALREADY_EXISTS},
     * {@code FAILED_PRECONDITION}, {@code OK}) are refused: repeating such a call cannot help.
     *
     * @throws IllegalArgumentException if null, or naming a refused code
     */
    public Builder retryableCodes(Set<Status.Code> codes) {
      if (codes == null) {
        throw new IllegalArgumentException("retryableCodes must not be null");
      }
      EnumSet<Status.Code> copy = EnumSet.noneOf(Status.Code.class);
      for (Status.Code code : codes) {
        if (code == null) {
          throw new IllegalArgumentException("retryableCodes must not contain null");
        }
        if (NEVER_RETRYABLE.contains(code)) {
          throw new IllegalArgumentException("retryableCodes must not contain " + code
              + ": repeating such a call cannot help, got " + codes);
        }
        copy.add(code);
      }
      this.retryableCodes = copy;
      return this;
    }

    /**
     * Returns the policy.
     *
     * @throws IllegalArgumentException if {@code maxBackoff} is shorter than
     *     {@code initialBackoff}
     */
    public RetryPolicy build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("maxBackoff must not be shorter than initialBackoff "
            + initialBackoff + ", got " + maxBackoff);
      }
      return new RetryPolicy(this);
    }

    private static final Set<Status.Code> NEVER_RETRYABLE = EnumSet.of(Status.Code.OK,
        Status.Code.INVALID_ARGUMENT, Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED,
        Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION);

    private static Duration nonNegative(String name, Duration value) {
      if (value == null) {
        throw new IllegalArgumentException(name + " must not be null");
      }
      if (value.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, got " + value);
      }
      return value;
    }
  }
}
