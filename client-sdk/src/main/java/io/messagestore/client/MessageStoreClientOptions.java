package io.messagestore.client;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-call behaviour of a {@link MessageStoreClient}: deadline, page size and automatic
 * idempotency keys.
 *
 * <p>Instances are immutable and thread-safe. Every builder setter validates its argument at
 * once and throws {@link IllegalArgumentException} naming the rejected value, so a bad
 * configuration fails where it is written rather than on the first call.
 *
 * <pre>{@code
 * MessageStoreClientOptions options = MessageStoreClientOptions.builder()
 *     .deadline(Duration.ofSeconds(2))
 *     .pageSize(500)
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

  private static final MessageStoreClientOptions DEFAULTS = builder().build();

  private final Duration deadline;
  private final int pageSize;
  private final boolean autoIdempotencyKeys;

  private MessageStoreClientOptions(Builder builder) {
    this.deadline = builder.deadline;
    this.pageSize = builder.pageSize;
    this.autoIdempotencyKeys = builder.autoIdempotencyKeys;
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
    return new Builder()
        .deadline(deadline)
        .pageSize(pageSize)
        .autoIdempotencyKeys(autoIdempotencyKeys);
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

  @Override
  public boolean equals(Object o) {
    return o instanceof MessageStoreClientOptions other
        && deadline.equals(other.deadline)
        && pageSize == other.pageSize
        && autoIdempotencyKeys == other.autoIdempotencyKeys;
  }

  @Override
  public int hashCode() {
    return Objects.hash(deadline, pageSize, autoIdempotencyKeys);
  }

  @Override
  public String toString() {
    return "MessageStoreClientOptions{deadline=" + deadline + ", pageSize=" + pageSize
        + ", autoIdempotencyKeys=" + autoIdempotencyKeys + "}";
  }

  /** Builds {@link MessageStoreClientOptions}; not thread-safe. */
  public static final class Builder {
    private Duration deadline = DEFAULT_DEADLINE;
    private int pageSize = DEFAULT_PAGE_SIZE;
    private boolean autoIdempotencyKeys = DEFAULT_AUTO_IDEMPOTENCY_KEYS;

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

    /** Returns the options; every value was already validated by its setter. */
    public MessageStoreClientOptions build() {
      return new MessageStoreClientOptions(this);
    }
  }
}
