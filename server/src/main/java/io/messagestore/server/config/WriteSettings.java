package io.messagestore.server.config;

import java.time.Duration;

/** What one message may carry, and how long a durable send waits for its PostgreSQL commit. */
public record WriteSettings(int maxContentBytes, Duration durableTimeout) {

  /** Must also stay below {@link ServerSettings#MAX_INBOUND_MESSAGE_BYTES}: checked by {@link GatewayConfig}. */
  public static final Setting<Integer> MAX_CONTENT_BYTES =
      Setting.integer("MESSAGESTORE_MAX_CONTENT_BYTES", 1024 * 1024).rule(n -> n >= 1, "must be positive");
  public static final Setting<Duration> DURABLE_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_DURABLE_TIMEOUT", Duration.ofSeconds(10));

  public WriteSettings {
    MAX_CONTENT_BYTES.check(maxContentBytes);
    DURABLE_TIMEOUT.check(durableTimeout);
  }

  static WriteSettings from(SettingValues v) {
    return new WriteSettings(v.get(MAX_CONTENT_BYTES), v.get(DURABLE_TIMEOUT));
  }
}
