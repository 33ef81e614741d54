package io.messagestore.server.config;

/**
 * Turns the PostgreSQL URL forms operators write into the JDBC URL the gateway connects with.
 *
 * <p>The documented default is an r2dbc URL ({@code r2dbc:postgresql://host:port/db}); the gateway
 * talks JDBC, so the scheme is rewritten and the rest (host, port, database, query parameters such
 * as {@code user}, {@code password}, {@code sslmode}) is kept as written.
 */
final class PostgresUrls {
  private PostgresUrls() {}

  static String toJdbc(String url) {
    if (url == null || url.isBlank()) {
      throw new ConfigException(ConfigKeys.POSTGRES_URL, String.valueOf(url), "must not be empty");
    }
    String rest;
    if (url.startsWith("r2dbc:postgresql://")) {
      rest = url.substring("r2dbc:postgresql://".length());
    } else if (url.startsWith("jdbc:postgresql://")) {
      rest = url.substring("jdbc:postgresql://".length());
    } else if (url.startsWith("postgresql://")) {
      rest = url.substring("postgresql://".length());
    } else if (url.startsWith("postgres://")) {
      rest = url.substring("postgres://".length());
    } else {
      throw new ConfigException(ConfigKeys.POSTGRES_URL, url,
          "must start with r2dbc:postgresql://, jdbc:postgresql:// or postgresql://");
    }
    if (rest.isEmpty() || rest.startsWith("/")) {
      throw new ConfigException(ConfigKeys.POSTGRES_URL, url, "has no host");
    }
    if (rest.contains("@")) {
      throw new ConfigException(ConfigKeys.POSTGRES_URL, url.replaceAll(":[^:@/]*@", ":***@"),
          "put credentials in ?user=...&password=... or MESSAGESTORE_POSTGRES_USER/_PASSWORD");
    }
    return "jdbc:postgresql://" + rest;
  }
}
