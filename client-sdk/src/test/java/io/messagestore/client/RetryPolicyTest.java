package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  @Test
  void defaultsAreTheDocumentedConstants() {
    RetryPolicy p = RetryPolicy.DEFAULT;

    assertThat(p.maxAttempts()).isEqualTo(5).isEqualTo(RetryPolicy.DEFAULT_MAX_ATTEMPTS);
    assertThat(p.initialBackoff()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.maxBackoff()).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.totalDeadline()).contains(Duration.ofSeconds(30));
    assertThat(p.retryableCodes()).containsExactlyInAnyOrder(Status.Code.UNAVAILABLE,
        Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED);
    assertThat(RetryPolicy.NONE.retries()).isFalse();
    assertThat(RetryPolicy.builder().build()).isEqualTo(p);
  }

  @Test
  void backoffGrowsByTheMultiplierUpToTheMaximum() {
    RetryPolicy p = RetryPolicy.builder().initialBackoff(Duration.ofMillis(100))
        .maxBackoff(Duration.ofMillis(500)).backoffMultiplier(2).build();

    assertThat(p.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.backoff(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(p.backoff(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(p.backoff(4)).isEqualTo(Duration.ofMillis(500));
    assertThat(p.backoff(60)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void badValuesFailAtTheSetterNamingTheValue() {
    assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
        .hasMessage("maxAttempts must be at least 1, got 0");
    assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofMillis(-1)))
        .hasMessage("initialBackoff must not be negative, got PT-0.001S");
    assertThatThrownBy(() -> RetryPolicy.builder().backoffMultiplier(0.5))
        .hasMessage("backoffMultiplier must be at least 1, got 0.5");
    assertThatThrownBy(() -> RetryPolicy.builder().jitter(1.5))
        .hasMessage("jitter must be between 0 and 1, got 1.5");
    assertThatThrownBy(() -> RetryPolicy.builder().totalDeadline(Duration.ZERO))
        .hasMessage("totalDeadline must be positive, got PT0S");
    assertThatThrownBy(() -> RetryPolicy.builder().retryableCodes(Set.of(Status.Code.INVALID_ARGUMENT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("retryableCodes must not contain INVALID_ARGUMENT");
    assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(2))
        .maxBackoff(Duration.ofSeconds(1)).build())
        .hasMessage("maxBackoff must not be shorter than initialBackoff PT2S, got PT1S");
  }

  @Test
  void optionsHoldAPolicyPerCallTypeWithWritesAndWatchesApart() {
    MessageStoreClientOptions o = MessageStoreClientOptions.defaults();

    assertThat(o.retryPolicy(CallType.SEND)).isEqualTo(RetryPolicy.DEFAULT);
    assertThat(o.retryPolicy(CallType.READ)).isEqualTo(RetryPolicy.DEFAULT);
    assertThat(o.retryPolicy(CallType.OTHER_WRITE)).isEqualTo(RetryPolicy.NONE);
    assertThat(o.retryPolicy(CallType.WATCH_RESUME).maxAttempts()).isEqualTo(Integer.MAX_VALUE);
    assertThat(o.retryPolicy(CallType.WATCH_RESUME).totalDeadline()).isEmpty();
    assertThat(o.runStateUpdateAttempts()).isEqualTo(50);

    MessageStoreClientOptions none = o.toBuilder().noRetries().build();
    assertThat(CallType.values()).allSatisfy(t -> assertThat(none.retryPolicy(t)).isEqualTo(RetryPolicy.NONE));
    assertThat(none.toBuilder().build()).isEqualTo(none).isNotEqualTo(o);
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().runStateUpdateAttempts(0))
        .hasMessage("runStateUpdateAttempts must be at least 1, got 0");
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().retryPolicy(CallType.SEND, null))
        .hasMessage("retryPolicy needs a call type and a policy, got SEND and null");
  }

  @Test
  void keepAliveBelowWhatTheGatewayToleratesFailsAtTheBuilder() {
    assertThatThrownBy(() -> MessageStoreClient.builder().keepAliveTime(Duration.ofSeconds(5)))
        .hasMessage("keepAliveTime must be at least PT10S, got PT5S");
  }
}
