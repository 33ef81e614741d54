package io.messagestore.server.config;

import java.net.URI;
import java.time.Duration;

/** How the gateway reaches ClickHouse: its HTTP interface, the database, and how long a call may take. */
public record ClickHouseSettings(URI url, String database, Duration timeout) {

  /** A path names the database ({@code http://host:8123/mydb}) unless {@link #CLICKHOUSE_DATABASE} is given. */
  public static final Setting<URI> CLICKHOUSE_URL = Setting.uri("MESSAGESTORE_CLICKHOUSE_URL", "http://127.0.0.1:8123")
      .rule(u -> "http".equals(u.getScheme()) || "https".equals(u.getScheme()), "must start with http:// or https://");
  public static final Setting<String> CLICKHOUSE_DATABASE =
      Setting.text("MESSAGESTORE_CLICKHOUSE_DATABASE", "messagestore");
  public static final Setting<Duration> CLICKHOUSE_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_CLICKHOUSE_TIMEOUT", Duration.ofSeconds(2));

  public ClickHouseSettings {
    CLICKHOUSE_URL.check(url);
    CLICKHOUSE_DATABASE.check(database);
    // Named as the URL's fault: the database is usually written as the URL's path.
    CLICKHOUSE_URL.require(database.matches("[A-Za-z_][A-Za-z0-9_]*"), database, "database name must be an identifier");
    CLICKHOUSE_TIMEOUT.check(timeout);
  }

  /** The URL as logs and {@code --check-config} may show it: {@code user:password@} left out. */
  public static String withoutCredentials(URI url) {
    return url.getScheme() + "://" + url.getHost() + (url.getPort() > 0 ? ":" + url.getPort() : "");
  }

  static ClickHouseSettings from(SettingValues v) {
    URI url = v.get(CLICKHOUSE_URL);
    String database = CLICKHOUSE_DATABASE.defaultValue();
    String path = url.getPath();
    if (path != null && path.length() > 1) {
      database = path.substring(1);
      url = URI.create(url.getScheme() + "://" + url.getAuthority());
    }
    if (v.isGiven(CLICKHOUSE_DATABASE)) {
      database = v.get(CLICKHOUSE_DATABASE);
    }
    return new ClickHouseSettings(url, database, v.get(CLICKHOUSE_TIMEOUT));
  }
}
