package io.messagestore.server.config;

import java.time.Duration;

/**
 * How the gateway reaches PostgreSQL: the JDBC URL, the credentials, the pool and how long to
 * wait for it. Never prints the password.
 *
 * @param jdbcUrl any URL form {@link PostgresUrls} accepts; kept as the JDBC URL to connect
 *     with, which never holds a user or password before the host
 * @param user the user, unless the URL names one
 * @param password the password, unless the URL has one
 */
public record PostgresSettings(String jdbcUrl, String user, String password, int poolSize, Duration timeout) {

  public static final Setting<String> POSTGRES_URL =
      Setting.text("MESSAGESTORE_POSTGRES_URL", "r2dbc:postgresql://127.0.0.1:5432/messagestore");
  public static final Setting<String> POSTGRES_USER = Setting.text("MESSAGESTORE_POSTGRES_USER", "postgres");
  public static final Setting<String> POSTGRES_PASSWORD = Setting.text("MESSAGESTORE_POSTGRES_PASSWORD", "").secret();
  public static final Setting<Integer> POSTGRES_POOL_SIZE = Setting.integer("MESSAGESTORE_POSTGRES_POOL_SIZE", 8)
      .rule(n -> n >= 2 && n <= 200, "must be 2-200");
  public static final Setting<Duration> POSTGRES_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_POSTGRES_TIMEOUT", Duration.ofSeconds(2));

  public PostgresSettings {
    // PostgresUrls checks the URL and names MESSAGESTORE_POSTGRES_URL itself, with the password hidden.
    PostgresUrls.Parsed url = PostgresUrls.parse(jdbcUrl);
    jdbcUrl = url.jdbcUrl();
    // Credentials written in the URL win: platforms hand the URL out whole, and the separate
    // settings may still hold a default. One the URL leaves out comes from its setting (as
    // libpq takes a password from PGPASSWORD for a URL without one).
    user = POSTGRES_USER.check(url.user() != null ? url.user() : user);
    password = POSTGRES_PASSWORD.check(url.password() != null ? url.password() : password);
    POSTGRES_POOL_SIZE.check(poolSize);
    POSTGRES_TIMEOUT.check(timeout);
  }

  static PostgresSettings from(SettingValues v) {
    return new PostgresSettings(v.get(POSTGRES_URL), v.get(POSTGRES_USER), v.get(POSTGRES_PASSWORD),
        v.get(POSTGRES_POOL_SIZE), v.get(POSTGRES_TIMEOUT));
  }

  @Override
  public String toString() {
    return "PostgresSettings[jdbcUrl=" + PostgresUrls.redact(jdbcUrl) + ", user=" + user + ", password=***, poolSize="
        + poolSize + ", timeout=" + timeout + "]";
  }
}
