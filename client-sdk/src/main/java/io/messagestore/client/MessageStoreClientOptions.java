package io.messagestore.client;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-call behaviour of a {@link MessageStoreClient}: deadline, page size, automatic
 * idempotency keys, retry policies per {@link CallType}, the attempts of
 * {@link MessageStoreClient#updateRunState} and where metrics go.
 *
 * <p>Instances are immutable and thread-safe. Every builder setter validates its argument at
 * once and throws {@link IllegalArgumentException} naming the rejected value, so a bad
 * configuration fails where it is written rather than on the first call.
 *
 * <pre>{@code
 * MessageStoreClientOptions options = MessageStoreClientOptions.builder()
 *     .deadline(Duration.ofSeconds(2))
 *     .pageSize(500)
 *     .retryPolicy(CallType.SEND, RetryPolicy.builder().maxAttempts(8).build())
 *     .build();
 * }</pre>
 */
public final class MessageStoreClientOptions {

  /** Deadline applied to every call unless configured otherwise: 5 seconds. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  /** Number of messages or threads requested per page when paging: 100. */
  public static final int DEFAULT_PAGE_SIZE = 100;

  /** The largest page size the server accepts: 1000. */
  public static final int MAX_PAGE_SIZE = 1000;

  /** Whether sends without an idempotency key get a random one: {@code true}. */
  public static final boolean DEFAULT_AUTO_IDEMPOTENCY_KEYS = true;

  /** Retries of sends (with idempotency keys): {@link RetryPolicy#DEFAULT}. */
  public static final RetryPolicy DEFAULT_SEND_RETRY = RetryPolicy.DEFAULT;

  /** Retries of calls that change nothing: {@link RetryPolicy#DEFAULT}. */
  public static final RetryPolicy DEFAULT_READ_RETRY = RetryPolicy.DEFAULT;

  /** Retries of other writes (see {@link CallType#OTHER_WRITE}): {@link RetryPolicy#NONE}. */
  public static final RetryPolicy DEFAULT_OTHER_WRITE_RETRY = RetryPolicy.NONE;

  /**
   * Reopening a broken watch: any number of times, 100 ms doubling up to 5 s between failed
   * reopenings, no total deadline (a watch lasts until it is closed).
   */
  public static final RetryPolicy DEFAULT_WATCH_RESUME = RetryPolicy.builder()
      .unlimitedAttempts().noTotalDeadline().build();

  /**
   * Read-apply-write rounds of {@link MessageStoreClient#updateRunState} before it gives up on a
   * run that others keep changing: 50.
   */
  public static final int DEFAULT_RUN_STATE_UPDATE_ATTEMPTS = 50;

  private static final MessageStoreClientOptions DEFAULTS = builder().build();

  private final Duration deadline;
  private final int pageSize;
  private final boolean autoIdempotencyKeys;
  private final Map<CallType, RetryPolicy> retryPolicies;
  private final int runStateUpdateAttempts;
  private final MessageStoreMetrics metrics;

  private MessageStoreClientOptions(Builder builder) {
    this.deadline = builder.deadline;
    this.pageSize = builder.pageSize;
    this.autoIdempotencyKeys = builder.autoIdempotencyKeys;
    this.retryPolicies = new EnumMap<>(builder.retryPolicies);
    this.runStateUpdateAttempts = builder.runStateUpdateAttempts;
    this.metrics = builder.metrics;
  }

  /** Returns the options with every value at its {@code DEFAULT_*} constant. */
  public static MessageStoreClientOptions defaults() {
    return DEFAULTS;
  }

  /** Returns a builder that starts from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder that starts from these options. */
  public Builder toBuilder() {
    Builder b = new Builder()
        .deadline(deadline)
        .pageSize(pageSize)
        .autoIdempotencyKeys(autoIdempotencyKeys)
        .runStateUpdateAttempts(runStateUpdateAttempts)
        .metrics(metrics);
    retryPolicies.forEach(b::retryPolicy);
    return b;
  }

  /**
   * The deadline of each RPC, counted from the moment the call starts. When paging, each page
   * request gets its own deadline, so a long iteration is not cut short.
   */
  public Duration deadline() {
    return deadline;
  }

  /** The page size requested from ListMessages and ListThreads, between 1 and {@value #MAX_PAGE_SIZE}. */
  public int pageSize() {
    return pageSize;
  }

  /**
   * Whether {@link MessageStoreClient#send(io.messagestore.api.v1.SendMessageRequest)} and
   * {@link MessageStoreClient#sendBatch} give a random UUID idempotency key to every request
   * that has none. See {@link MessageStoreClient} for what the key does and does not protect.
   */
  public boolean autoIdempotencyKeys() {
    return autoIdempotencyKeys;
  }

  /** The retry policy of calls of this type. */
  public RetryPolicy retryPolicy(CallType type) {
    return retryPolicies.get(Objects.requireNonNull(type, "type"));
  }

  /** Read-apply-write rounds of {@link MessageStoreClient#updateRunState} before it gives up. */
  public int runStateUpdateAttempts() {
    return runStateUpdateAttempts;
  }

  /** Where the client reports calls, retries and watch resumptions. */
  public MessageStoreMetrics metrics() {
    return metrics;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MessageStoreClientOptions other
        && deadline.equals(other.deadline)
        && pageSize == other.pageSize
        && autoIdempotencyKeys == other.autoIdempotencyKeys
        && retryPolicies.equals(other.retryPolicies)
        && runStateUpdateAttempts == other.runStateUpdateAttempts
        && metrics == other.metrics;
  }

  @Override
  public int hashCode() {
    return Objects.hash(deadline, pageSize, autoIdempotencyKeys, retryPolicies,
        runStateUpdateAttempts, System.identityHashCode(metrics));
  }

  @Override
  public String toString() {
    return "MessageStoreClientOptions{deadline=" + deadline + ", pageSize=" + pageSize
        + ", autoIdempotencyKeys=" + autoIdempotencyKeys + ", retryPolicies=" + retryPolicies
        + ", runStateUpdateAttempts=" + runStateUpdateAttempts + "}";
  }

  /** Builds {@link MessageStoreClientOptions}; not thread-safe. */
  public static final class Builder {
    private Duration deadline = DEFAULT_DEADLINE;
    private int pageSize = DEFAULT_PAGE_SIZE;
    private boolean autoIdempotencyKeys = DEFAULT_AUTO_IDEMPOTENCY_KEYS;
    private final Map<CallType, RetryPolicy> retryPolicies = new EnumMap<>(Map.of(
        CallType.SEND, DEFAULT_SEND_RETRY,
        CallType.READ, DEFAULT_READ_RETRY,
        CallType.OTHER_WRITE, DEFAULT_OTHER_WRITE_RETRY,
        CallType.WATCH_RESUME, DEFAULT_WATCH_RESUME));
    private int runStateUpdateAttempts = DEFAULT_RUN_STATE_UPDATE_ATTEMPTS;
    private MessageStoreMetrics metrics = MessageStoreMetrics.NONE;

    private Builder() {}

    /**
     * Sets the deadline of each call.
     *
     * @throws IllegalArgumentException if {@code deadline} is null, zero or negative
     */
    public Builder deadline(Duration deadline) {
      if (deadline == null) {
        throw new IllegalArgumentException("deadline must not be null");
      }
      if (deadline.isZero() || deadline.isNegative()) {
        throw new IllegalArgumentException("deadline must be positive, got " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Sets the page size used when paging.
     *
     * @throws IllegalArgumentException if {@code pageSize} is outside 1..1000
     */
    public Builder pageSize(int pageSize) {
      if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw new IllegalArgumentException(
            "pageSize must be between 1 and " + MAX_PAGE_SIZE + ", got " + pageSize);
      }
      this.pageSize = pageSize;
      return this;
    }

    /** Turns automatic idempotency keys on (the default) or off. */
    public Builder autoIdempotencyKeys(boolean autoIdempotencyKeys) {
      this.autoIdempotencyKeys = autoIdempotencyKeys;
      return this;
    }

    /**
     * Sets the retry policy of one type of call.
     *
     * @throws IllegalArgumentException if either argument is null
     */
    public Builder retryPolicy(CallType type, RetryPolicy policy) {
      if (type == null || policy == null) {
        throw new IllegalArgumentException("retryPolicy needs a call type and a policy, got "
            + type + " and " + policy);
      }
      retryPolicies.put(type, policy);
      return this;
    }

    /**
     * Turns retries off for every type of call: each call is made once and a broken watch
     * ends with its error. {@link MessageStoreClient#updateRunState} still tries again after a
     * version conflict; see {@link #runStateUpdateAttempts(int)}.
     */
    public Builder noRetries() {
      for (CallType type : CallType.values()) {
        retryPolicies.put(type, RetryPolicy.NONE);
      }
      return this;
    }

    /**
     * Sets the read-apply-write rounds of {@link MessageStoreClient#updateRunState}.
     *
     * @throws IllegalArgumentException if less than 1
     */
    public Builder runStateUpdateAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("runStateUpdateAttempts must be at least 1, got " + attempts);
      }
      this.runStateUpdateAttempts = attempts;
      return this;
    }

    /**
     * Sets where calls, retries and watch resumptions are reported, e.g.
     * {@link io.messagestore.client.micrometer.MicrometerMetrics}.
     *
     * @throws IllegalArgumentException if null (use {@link MessageStoreMetrics#NONE})
     */
    public Builder metrics(MessageStoreMetrics metrics) {
      if (metrics == null) {
        throw new IllegalArgumentException("metrics must not be null; use MessageStoreMetrics.NONE");
      }
      this.metrics = metrics;
      return this;
    }

    /** Returns the options; every value was already validated by its setter. */
    public MessageStoreClientOptions build() {
      return new MessageStoreClientOptions(this);
    }
  }
}
