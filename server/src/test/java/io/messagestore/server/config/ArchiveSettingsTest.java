package io.messagestore.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArchiveSettingsTest {

  private static GatewayConfig load(Map<String, String> settings) {
    return ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", "0123456789abcdef0123456789abcdef"), settings);
  }

  @Test
  void archivingIsOnForThirtyDaysAndArchivesAreKeptUnlessSaidOtherwise() {
    ArchiveSettings archive = load(Map.of()).archive();

    assertThat(archive.hotRetention()).isEqualTo(Duration.ofDays(30));
    assertThat(archive.archiving()).isTrue();
    assertThat(archive.archiveExpires()).isFalse();
  }

  @Test
  void retentionsTakeTheUsualDurationsAndZeroOrOffTurnThemOff() {
    assertThat(load(Map.of("MESSAGESTORE_HOT_RETENTION", "PT3S")).archive().hotRetention()).isEqualTo(Duration.ofSeconds(3));
    assertThat(load(Map.of("MESSAGESTORE_HOT_RETENTION", "0")).archive().archiving()).isFalse();
    assertThat(load(Map.of("MESSAGESTORE_HOT_RETENTION", "off")).archive().archiving()).isFalse();
    assertThat(load(Map.of("MESSAGESTORE_ARCHIVE_RETENTION", "365d")).archive().archiveRetention())
        .isEqualTo(Duration.ofDays(365));
  }

  @Test
  void badValuesAreRefusedByName() {
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_ARCHIVE_BATCH", "0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_ARCHIVE_BATCH=0");
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_HOT_RETENTION", "-1d")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_HOT_RETENTION");
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_ARCHIVE_INTERVAL", "0s")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MESSAGESTORE_ARCHIVE_INTERVAL");
  }

  @Test
  void clickhouseCredentialsNeverShowInTheSummary() {
    GatewayConfig config = load(Map.of("MESSAGESTORE_CLICKHOUSE_URL", "http://reader:s3cret@127.0.0.1:8123/analytics"));

    assertThat(config.toString()).contains("clickhouse=http://127.0.0.1:8123/analytics").doesNotContain("s3cret");
  }
}
