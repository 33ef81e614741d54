package io.messagestore.server.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Turns the PostgreSQL URL forms operators write into the JDBC URL the gateway connects with.
 *
 * <p>The documented default is an r2dbc URL ({@code r2dbc:postgresql://host:port/db}); the gateway
 * talks JDBC, so the scheme is rewritten and the rest (hosts, ports, database, query parameters
 * such as {@code sslmode}) is kept as written. A {@code user:password@} part, the form platforms
 * hand out as {@code DATABASE_URL}, is taken out of the URL and returned apart, percent-decoded:
 * the JDBC driver does not understand it, and the URL without it can be shown and logged.
 */
final class PostgresUrls {
  private static final String[] SCHEMES = {"r2dbc:postgresql://", "jdbc:postgresql://", "postgresql://", "postgres://"};
  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&#]*");

  private PostgresUrls() {}

  /**
   * A URL split for connecting.
   *
   * @param jdbcUrl the JDBC URL, without credentials before the host
   * @param user the URL's user, or null if it names none
   * @param password the URL's password, or null if it has none
   */
  record Parsed(String jdbcUrl, String user, String password) {
    @Override
    public String toString() {
      return "Parsed[" + redact(jdbcUrl) + ", user=" + user + ", password=" + (password == null ? null : "***") + "]";
    }
  }

  static Parsed parse(String url) {
    if (url == null || url.isBlank()) {
      throw new ConfigException(PostgresSettings.POSTGRES_URL.key(), String.valueOf(url), "must not be empty");
    }
    String rest = null;
    for (String scheme : SCHEMES) {
      if (url.startsWith(scheme)) {
        rest = url.substring(scheme.length());
        break;
      }
    }
    if (rest == null) {
      throw invalid(url, "must start with r2dbc:postgresql://, jdbc:postgresql://, postgresql:// or postgres://");
    }
    int authorityEnd = indexOfAny(rest, "/?#");
    String authority = rest.substring(0, authorityEnd);
    String tail = rest.substring(authorityEnd);
    String user = null;
    String password = null;
    // The last '@': an unencoded '@' in a password (which many tools accept) stays in it.
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = authority.substring(0, at);
      authority = authority.substring(at + 1);
      int colon = userInfo.indexOf(':');
      user = emptyToNull(decode(url, colon < 0 ? userInfo : userInfo.substring(0, colon)));
      password = colon < 0 ? null : emptyToNull(decode(url, userInfo.substring(colon + 1)));
    }
    String path = tail.substring(0, indexOfAny(tail, "?#"));
    if (path.contains("@")) {
      // A '/' in an unencoded password ends the host part early: the rest of the password
      // would be taken for the database name, and shown wherever the URL is.
      throw invalid(url, "has '@' after the host: percent-encode '/', '?', '#' and '@' in the user and password");
    }
    if (authority.isEmpty()) {
      throw invalid(url, "has no host");
    }
    for (String hostPort : authority.split(",", -1)) {
      checkHostPort(url, hostPort);
    }
    return new Parsed("jdbc:postgresql://" + authority + tail, user, password);
  }

  /**
   * The URL with its password hidden, wherever it was written (before the host or as a query
   * parameter), for messages and logs.
   */
  static String redact(String url) {
    if (url == null) {
      return null;
    }
    String masked = url;
    int start = url.indexOf("://");
    if (start >= 0) {
      start += 3;
      int queryStart = url.indexOf('?', start);
      int end = queryStart < 0 ? url.length() : queryStart;
      int at = url.lastIndexOf('@', end - 1);
      if (at >= start) {
        int colon = url.indexOf(':', start);
        if (colon >= 0 && colon < at) {
          masked = url.substring(0, colon + 1) + "***" + url.substring(at);
        }
      }
    }
    return PASSWORD_PARAMETER.matcher(masked).replaceAll("$1***");
  }

  private static void checkHostPort(String url, String hostPort) {
    String port;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw invalid(url, "has an IPv6 host without its closing ']'");
      }
      if (close == 1) {
        throw invalid(url, "has no host");
      }
      String after = hostPort.substring(close + 1);
      if (!after.isEmpty() && !after.startsWith(":")) {
        throw invalid(url, "has '" + after + "' after the IPv6 host (a port is written [host]:port)");
      }
      port = after.isEmpty() ? null : after.substring(1);
    } else {
      int colon = hostPort.indexOf(':');
      if (colon == 0 || hostPort.isEmpty()) {
        throw invalid(url, "has no host");
      }
      if (colon > 0 && hostPort.indexOf(':', colon + 1) >= 0) {
        throw invalid(url, "has an IPv6 host without brackets: write [" + hostPort + "]");
      }
      port = colon < 0 ? null : hostPort.substring(colon + 1);
    }
    if (port != null && !isPort(port)) {
      throw invalid(url, "has port '" + port + "', not a TCP port (1-65535)");
    }
  }

  private static boolean isPort(String s) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)) {
      return false;
    }
    int p = Integer.parseInt(s);
    return p >= 1 && p <= 65535;
  }

  /**
   * Percent-decoding as URIs define it: unlike {@link java.net.URLDecoder}, a '+' stays a '+'
   * (it is a character passwords use).
   */
  private static String decode(String url, String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    // Consecutive escapes are one UTF-8 sequence: decoded together.
    ByteArrayOutputStream escaped = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          // Not the escape itself in the message: that would show part of the password.
          throw invalid(url, "has a '%' not followed by two hex digits in its user or password");
        }
        escaped.write(hi * 16 + lo);
        i += 2;
      } else {
        out.append(escaped.toString(StandardCharsets.UTF_8));
        escaped.reset();
        out.append(c);
      }
    }
    return out.append(escaped.toString(StandardCharsets.UTF_8)).toString();
  }

  private static ConfigException invalid(String url, String rule) {
    return new ConfigException(PostgresSettings.POSTGRES_URL.key(), redact(url), rule);
  }

  private static int indexOfAny(String s, String chars) {
    for (int i = 0; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return s.length();
  }

  private static String emptyToNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
