package io.messagestore.server.config;

import java.net.URI;
import java.time.Duration;

/** How the gateway reaches Redis: where, and how long a request-path command may take. */
public record RedisSettings(URI uri, Duration timeout) {

  public static final Setting<URI> REDIS_URI = Setting.uri("MESSAGESTORE_REDIS_URI", "redis://127.0.0.1:6379")
      .rule(u -> "redis".equals(u.getScheme()) || "rediss".equals(u.getScheme()),
          "must start with redis:// or rediss://")
      .rule(u -> u.getHost() != null, "has no host");
  public static final Setting<Duration> REDIS_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_REDIS_TIMEOUT", Duration.ofMillis(100));

  public RedisSettings {
    REDIS_URI.check(uri);
    REDIS_TIMEOUT.check(timeout);
  }

  static RedisSettings from(SettingValues v) {
    return new RedisSettings(v.get(REDIS_URI), v.get(REDIS_TIMEOUT));
  }
}
