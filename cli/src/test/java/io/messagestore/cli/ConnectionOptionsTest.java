package io.messagestore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ConnectionOptionsTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef-cli";
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-04T10:00:00Z"), ZoneOffset.UTC);

  private static GlobalOptions options(Map<String, String> environment) {
    return new MessageStoreCli(environment);
  }

  @Test
  void plaintextIsTheDefaultOnlyForLoopbackTargets() {
    assertThat(GatewayConnection.isLoopback("127.0.0.1:50051")).isTrue();
    assertThat(GatewayConnection.isLoopback("localhost:50051")).isTrue();
    assertThat(GatewayConnection.isLoopback("[::1]:50051")).isTrue();
    assertThat(GatewayConnection.isLoopback("dns:///localhost:50051")).isTrue();
    assertThat(GatewayConnection.isLoopback("messagestore.internal:443")).isFalse();
    assertThat(GatewayConnection.isLoopback("10.0.0.7:50051")).isFalse();
    assertThat(GatewayConnection.isLoopback("[2001:db8::1]:50051")).isFalse();
    assertThat(GatewayConnection.isLoopback("127.0.0.1:50051,localhost:50052")).isTrue();
    assertThat(GatewayConnection.isLoopback("127.0.0.1:50051,10.0.0.7:50051")).isFalse();
  }

  @Test
  void durationsReadLikeTheGatewaysSettings() {
    DurationConverter converter = new DurationConverter();

    assertThat(converter.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(converter.convert("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(converter.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(converter.convert("PT1H")).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> converter.convert("0s")).isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("not a positive duration");
    assertThatThrownBy(() -> converter.convert("-1h")).isInstanceOf(TypeConversionException.class);
  }

  @Test
  void explicitTokenOptionsBeatTheEnvironment() {
    GlobalOptions options = options(Map.of(Tokens.TOKEN_VARIABLE, "from-env"));
    assertThat(Tokens.resolve(options, CLOCK)).contains("from-env");

    options.token = " given ";
    assertThat(Tokens.resolve(options, CLOCK)).contains("given");
  }

  @Test
  void noTokenAnywhereMeansAnUnauthenticatedCall() {
    assertThat(Tokens.resolve(options(Map.of()), CLOCK)).isEmpty();
  }

  @Test
  void asMintsAShortLivedTokenWithTheAdminRoleOnlyWhenAsked() throws Exception {
    GlobalOptions options = options(Map.of(Tokens.SECRET_VARIABLE, SECRET));
    options.actAs = "alice";
    options.admin = true;

    SignedJWT jwt = SignedJWT.parse(Tokens.resolve(options, CLOCK).orElseThrow());

    assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo("alice");
    assertThat(jwt.getJWTClaimsSet().getStringListClaim("roles")).isEqualTo(List.of("admin"));
    assertThat(jwt.getJWTClaimsSet().getExpirationTime().toInstant())
        .isEqualTo(CLOCK.instant().plus(Tokens.MINTED_LIFETIME));
  }

  @Test
  void tokenOptionsThatConflictOrCannotWorkAreRefusedByName() {
    GlobalOptions both = options(Map.of(Tokens.SECRET_VARIABLE, SECRET));
    both.token = "jwt";
    both.actAs = "alice";
    assertThatThrownBy(() -> Tokens.resolve(both, CLOCK)).hasMessageContaining("exclude each other");

    GlobalOptions adminAlone = options(Map.of());
    adminAlone.admin = true;
    assertThatThrownBy(() -> Tokens.resolve(adminAlone, CLOCK)).hasMessageContaining("--admin");

    GlobalOptions shortSecret = options(Map.of(Tokens.SECRET_VARIABLE, "short"));
    shortSecret.actAs = "alice";
    assertThatThrownBy(() -> Tokens.resolve(shortSecret, CLOCK))
        .hasMessageContaining("MESSAGESTORE_JWT_SECRET").hasMessageNotContaining("short");
  }
}
