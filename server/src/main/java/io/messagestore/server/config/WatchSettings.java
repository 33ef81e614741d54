package io.messagestore.server.config;

import java.time.Duration;

/**
 * WatchThread streams: how many one instance serves, and how often the server pings a quiet
 * connection, so that proxies and load balancers, which close connections idle for a few minutes,
 * keep an idle watch open.
 */
public record WatchSettings(int maxWatchers, Duration keepAliveTime) {

  public static final Setting<Integer> MAX_WATCHERS =
      Setting.integer("MESSAGESTORE_MAX_WATCHERS", 10_000).rule(n -> n >= 0, "must be 0 (no watches) or more");
  /** gRPC's own floor for server pings is 10 s; clients may ping as often as every 10 s too. */
  public static final Setting<Duration> KEEPALIVE_TIME = Setting.positiveDuration("MESSAGESTORE_KEEPALIVE_TIME",
      Duration.ofSeconds(30)).rule(d -> d.compareTo(Duration.ofSeconds(10)) >= 0, "must be at least 10s");

  public WatchSettings {
    MAX_WATCHERS.check(maxWatchers);
    KEEPALIVE_TIME.check(keepAliveTime);
  }

  static WatchSettings from(SettingValues v) {
    return new WatchSettings(v.get(MAX_WATCHERS), v.get(KEEPALIVE_TIME));
  }
}
