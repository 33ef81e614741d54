package io.messagestore.client.internal;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.messagestore.client.MessageStoreException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Runs one blocking unary call the way every MessageStore client call runs: refused once the
 * client is closed, with a fresh deadline, and with a failed status turned into a
 * {@link MessageStoreException} naming the RPC.
 *
 * @param <S> the blocking stub type
 */
public final class UnaryCaller<S extends AbstractStub<S>> {
  private final S stub;
  private final Duration deadline;
  private final BooleanSupplier closed;

  /**
   * @param stub the stub, already carrying the call credentials
   * @param deadline the deadline of each call, counted from its start
   * @param closed tells whether the owning client was closed
   */
  public UnaryCaller(S stub, Duration deadline, BooleanSupplier closed) {
    this.stub = Objects.requireNonNull(stub, "stub");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.closed = Objects.requireNonNull(closed, "closed");
  }

  /** The stub without a deadline, for streaming calls that live as long as their reader. */
  public S stub() {
    checkOpen();
    return stub;
  }

  /**
   * Runs {@code body} on a stub with this call's deadline.
   *
   * @throws MessageStoreException if the call fails
   * @throws IllegalStateException if the client is closed
   */
  public <T> T call(String rpc, Function<S, T> body) {
    checkOpen();
    // The deadline is fixed when the stub is derived, so it must be derived per call.
    S withDeadline = stub.withDeadlineAfter(deadlineNanos(), TimeUnit.NANOSECONDS);
    try {
      return body.apply(withDeadline);
    } catch (StatusRuntimeException e) {
      throw new MessageStoreException(rpc, e.getStatus(), e);
    }
  }

  private void checkOpen() {
    if (closed.getAsBoolean()) {
      throw new IllegalStateException("MessageStoreClient is closed");
    }
  }

  private long deadlineNanos() {
    try {
      return deadline.toNanos();
    } catch (ArithmeticException tooLongForNanos) {
      return Long.MAX_VALUE;
    }
  }
}
