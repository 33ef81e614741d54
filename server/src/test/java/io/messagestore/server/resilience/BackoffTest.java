package io.messagestore.server.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void pausesDoubleFromTheShortestUpToTheLongest() {
    Backoff backoff = Backoff.exponential(Duration.ofMillis(50), Duration.ofSeconds(1));
    List<Long> pauses = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      pauses.add(backoff.next().toMillis());
    }
    assertThat(pauses).containsExactly(50L, 100L, 200L, 400L, 800L, 1000L, 1000L, 1000L);
  }

  @Test
  void aSuccessStartsTheNextFailuresFromTheShortestPause() {
    Backoff backoff = Backoff.exponential(Duration.ofMillis(50), Duration.ofSeconds(1));
    backoff.next();
    backoff.next();
    backoff.reset();
    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(50));
  }

  @Test
  void atLongestOnceTheNextPauseIsTheLongest() {
    Backoff backoff = Backoff.exponential(Duration.ofMillis(50), Duration.ofSeconds(1));
    List<Boolean> atLongest = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      atLongest.add(backoff.atLongest());
      backoff.next();
    }
    // before the pauses 50, 100, 200, 400, 800, 1000, 1000
    assertThat(atLongest).containsExactly(false, false, false, false, false, true, true);
  }

  @Test
  void aLongestShorterThanTheShortestIsRefusedNamingBoth() {
    assertThatThrownBy(() -> Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT2S").hasMessageContaining("PT1S");
  }
}
