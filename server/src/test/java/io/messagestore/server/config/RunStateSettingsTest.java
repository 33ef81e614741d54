package io.messagestore.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.api.v1.TtlClass;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunStateSettingsTest {

  private static GatewayConfig load(Map<String, String> settings) {
    return ConfigLoader.load(null, Map.of("MESSAGESTORE_JWT_SECRET", "0123456789abcdef0123456789abcdef"), settings);
  }

  @Test
  void theTtlLadderIsFiveMinutesAnHourAndADayAndUnspecifiedMeansCheckpoint() {
    RunStateSettings runs = load(Map.of()).runStates();

    assertThat(runs.ttl(TtlClass.TEMPORARY)).isEqualTo(Duration.ofMinutes(5));
    assertThat(runs.ttl(TtlClass.CHECKPOINT)).isEqualTo(Duration.ofHours(1));
    assertThat(runs.ttl(TtlClass.TTL_CLASS_UNSPECIFIED)).isEqualTo(Duration.ofHours(1));
    assertThat(runs.ttl(TtlClass.PERSISTENT)).isEqualTo(Duration.ofDays(1));
    assertThat(runs.checkpointEvery()).isEqualTo(10);
    assertThat(runs.maxStateBytes()).isEqualTo(1024 * 1024);
  }

  @Test
  void aCheckpointIntervalAsLongAsATtlClassIsRefusedNamingTheShortestClass() {
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_RUN_CHECKPOINT_INTERVAL", "5m")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("MESSAGESTORE_RUN_CHECKPOINT_INTERVAL=PT5M: must be shorter than the shortest run TTL class (PT5M)");
    assertThat(load(Map.of("MESSAGESTORE_RUN_CHECKPOINT_INTERVAL", "5m", "MESSAGESTORE_RUN_TTL_TEMPORARY", "10m"))
        .runStates().checkpointInterval()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aStateLimitTooCloseToTheInboundLimitIsRefused() {
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_MAX_RUN_STATE_BYTES", "4194304")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("MESSAGESTORE_MAX_RUN_STATE_BYTES=4194304: must stay below the gRPC max inbound");
    assertThatThrownBy(() -> load(Map.of("MESSAGESTORE_RUN_CHECKPOINT_EVERY", "0")))
        .isInstanceOf(ConfigException.class).hasMessage("MESSAGESTORE_RUN_CHECKPOINT_EVERY=0: must be positive");
  }
}
