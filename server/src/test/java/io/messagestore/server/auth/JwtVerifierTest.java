package io.messagestore.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.server.testing.Tokens;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class JwtVerifierTest {
  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    Instant now = Instant.now();

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void cachedTokenStillExpiresOnTime() throws Exception {
    MovableClock clock = new MovableClock();
    JwtVerifier v = new JwtVerifier(Tokens.SECRET, clock);
    String token = Tokens.token("alice", List.of("admin"), Duration.ofMinutes(5), Tokens.SECRET);
    assertThat(v.verify(token).userId()).isEqualTo("alice");
    assertThat(v.verify(token).isAdmin()).isTrue();
    clock.now = clock.now.plus(Duration.ofMinutes(10));
    assertThatThrownBy(() -> v.verify(token)).isInstanceOf(JwtVerifier.InvalidTokenException.class)
        .hasMessageContaining("expired");
  }

  @Test
  void tokenWithoutSubjectOrExpiryIsRefused() {
    JwtVerifier v = new JwtVerifier(Tokens.SECRET, Clock.systemUTC());
    assertThatThrownBy(() -> v.verify(Tokens.token("", List.of(), Duration.ofMinutes(5), Tokens.SECRET)))
        .hasMessageContaining("sub");
  }
}
