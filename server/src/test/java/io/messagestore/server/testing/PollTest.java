package io.messagestore.server.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {

  @Test
  void aTimeoutReportsTheFailureThatKeptTheConditionFromHolding() {
    assertThatThrownBy(() -> Poll.until(Duration.ofMillis(50), "a read", () -> {
      throw Status.PERMISSION_DENIED.withDescription("thread 't' belongs to another user").asRuntimeException();
    }))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("timed out after PT0.05S waiting for a read; the last attempt failed with ")
        .hasMessageContaining("PERMISSION_DENIED: thread 't' belongs to another user")
        .cause().hasMessageContaining("PERMISSION_DENIED");
  }

  @Test
  void aFailureBeforeAttemptsThatMerelyReturnedFalseIsReportedAsEarlier() {
    AtomicInteger attempts = new AtomicInteger();
    assertThatThrownBy(() -> Poll.until(Duration.ofMillis(50), "a page", () -> {
      if (attempts.getAndIncrement() == 0) {
        throw new IllegalStateException("not started");
      }
      return false;
    })).hasMessageEndingWith("; an earlier attempt failed with java.lang.IllegalStateException: not started");
  }

  @Test
  void aConditionThatNeverThrowsTimesOutPlainly() {
    assertThatThrownBy(() -> Poll.until(Duration.ofMillis(30), "nothing", () -> false))
        .hasMessage("timed out after PT0.03S waiting for nothing")
        .hasNoCause();
  }
}
