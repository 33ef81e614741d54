package io.messagestore.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @Test
  void defaultsMatchTheDocumentedValues() {
    GatewayConfig c = ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET), Map.of());
    assertThat(c.grpcHost()).isEqualTo("127.0.0.1");
    assertThat(c.grpcPort()).isEqualTo(50051);
    assertThat(c.metricsPort()).isEqualTo(9464);
    assertThat(c.redisUri().toString()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(c.postgresJdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/messagestore");
    assertThat(c.clickhouseUrl().toString()).isEqualTo("http://127.0.0.1:8123");
    assertThat(c.clickhouseDatabase()).isEqualTo("messagestore");
    assertThat(c.authMode()).isEqualTo(GatewayConfig.AuthMode.REQUIRED);
    assertThat(c.maxContentBytes()).isEqualTo(1024 * 1024);
    assertThat(c.messageTtl()).isEqualTo(Duration.ofHours(1));
    assertThat(c.maxBacklog()).isEqualTo(1_000_000L);
    assertThat(c.nearCacheBytes()).isEqualTo(64L * 1024 * 1024);
  }

  @Test
  void nearCacheSizeTakesBinaryUnitsAndZeroTurnsItOff() {
    assertThat(withNearCache("512KiB").nearCacheBytes()).isEqualTo(512L * 1024);
    assertThat(withNearCache("1g").nearCacheBytes()).isEqualTo(1024L * 1024 * 1024);
    assertThat(withNearCache("1_048_576").nearCacheBytes()).isEqualTo(1024L * 1024);
    assertThat(withNearCache("0").nearCacheBytes()).isZero();
    assertThatThrownBy(() -> withNearCache("lots"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_NEAR_CACHE_BYTES=lots");
    String allOfTheHeap = Long.toString(Runtime.getRuntime().maxMemory());
    assertThatThrownBy(() -> withNearCache(allOfTheHeap))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_NEAR_CACHE_BYTES=" + allOfTheHeap)
        .hasMessageContaining("half the maximum heap");
  }

  private static GatewayConfig withNearCache(String size) {
    return ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET, "MESSAGESTORE_NEAR_CACHE_BYTES", size),
        Map.of());
  }

  @Test
  void overridesWinOverEnvironment() {
    GatewayConfig c = ConfigLoader.load(null,
        Map.of("MESSAGESTORE_JWT_SECRET", SECRET, "MESSAGESTORE_GRPC_PORT", "6000", "MESSAGESTORE_REDIS_TIMEOUT", "250ms"),
        Map.of("MESSAGESTORE_GRPC_PORT", "7000"));
    assertThat(c.grpcPort()).isEqualTo(7000);
    assertThat(c.redisTimeout()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void badPortIsRejectedNamingTheVariable() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_GRPC_PORT", "seventy"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_GRPC_PORT=seventy");
  }

  @Test
  void shortJwtSecretIsRejectedWithoutPrintingIt() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", "short"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_JWT_SECRET")
        .hasMessageNotContaining("short");
  }

  @Test
  void disabledAuthIsRefusedOffLoopback() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_AUTH", "disabled",
        "MESSAGESTORE_GRPC_HOST", "0.0.0.0"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_AUTH").hasMessageContaining("loopback");
  }

  @Test
  void contentLimitMustStayBelowGrpcInboundLimit() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_MAX_CONTENT_BYTES", "5000000"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_MAX_CONTENT_BYTES=5000000");
  }

  @Test
  void postgresUrlFormsAreAccepted() {
    for (String url : new String[] {"r2dbc:postgresql://db:5432/x", "postgresql://db:5432/x", "jdbc:postgresql://db:5432/x"}) {
      GatewayConfig c = ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET, "MESSAGESTORE_POSTGRES_URL", url), Map.of());
      assertThat(c.postgresJdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/x");
    }
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_POSTGRES_URL", "mysql://db/x"), Map.of())).hasMessageContaining("MESSAGESTORE_POSTGRES_URL");
  }

  @Test
  void credentialsInThePostgresUrlWinOverTheUserAndPasswordSettings() {
    GatewayConfig c = ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_POSTGRES_URL", "postgresql://app:url%40pw@db:5432/x?sslmode=require",
        "MESSAGESTORE_POSTGRES_USER", "other", "MESSAGESTORE_POSTGRES_PASSWORD", "other-pw"), Map.of());

    assertThat(c.postgresJdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/x?sslmode=require");
    assertThat(c.postgresUser()).isEqualTo("app");
    assertThat(c.postgresPassword()).isEqualTo("url@pw");
    assertThat(c.toBuilder().build().postgresPassword()).isEqualTo("url@pw");
  }

  @Test
  void aPasswordTheUrlLeavesOutComesFromItsSetting() {
    GatewayConfig c = ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_POSTGRES_URL", "postgresql://app@db/x", "MESSAGESTORE_POSTGRES_PASSWORD", "setting-pw"), Map.of());

    assertThat(c.postgresUser()).isEqualTo("app");
    assertThat(c.postgresPassword()).isEqualTo("setting-pw");
  }

  @Test
  void theConfigAsPrintedShowsThePostgresUserButNoPassword() {
    String printed = ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_POSTGRES_URL", "postgresql://app:hunter2@[::1]:5433/x?password=hunter3",
        "MESSAGESTORE_POSTGRES_PASSWORD", "hunter4"), Map.of()).toString();

    assertThat(printed).contains("postgres=jdbc:postgresql://[::1]:5433/x?password=*** as app")
        .doesNotContain("hunter2").doesNotContain("hunter3").doesNotContain("hunter4");
  }

  @Test
  void badBreakerSettingIsNamed() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", SECRET,
        "MESSAGESTORE_BREAKER_FAILURE_RATE", "150"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_BREAKER_FAILURE_RATE=150");
  }
}
