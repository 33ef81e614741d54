package io.messagestore.server.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.messagestore.server.config.PostgresSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL connection pool and schema.
 *
 * <p>The pool is created without connecting, so the gateway starts while PostgreSQL is down;
 * {@link #ensureSchema()} runs the Flyway migrations the first time the database answers.
 */
public final class PostgresTier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresTier.class);

  private final HikariDataSource dataSource;
  private final String jdbcUrl;
  private final AtomicBoolean migrated = new AtomicBoolean();

  public PostgresTier(PostgresSettings settings) {
    String jdbcUrl = settings.jdbcUrl();
    String password = settings.password();
    int poolSize = settings.poolSize();
    Duration timeout = settings.timeout();
    this.jdbcUrl = jdbcUrl;
    HikariConfig hc = new HikariConfig();
    hc.setPoolName("messagestore-postgres");
    hc.setJdbcUrl(jdbcUrl);
    hc.setUsername(settings.user());
    if (password != null && !password.isEmpty()) {
      hc.setPassword(password);
    }
    hc.setMaximumPoolSize(poolSize);
    hc.setMinimumIdle(Math.min(2, poolSize));
    hc.setConnectionTimeout(Math.max(250, timeout.toMillis()));
    hc.setValidationTimeout(Math.max(250, Math.min(timeout.toMillis(), 1000)));
    hc.setInitializationFailTimeout(-1);
    // A stopped or paused server must not hang a call forever: bound every statement and socket read.
    long socketSeconds = Math.max(5, timeout.toSeconds() * 3);
    hc.addDataSourceProperty("socketTimeout", Long.toString(socketSeconds));
    hc.addDataSourceProperty("connectTimeout", Long.toString(Math.max(1, timeout.toSeconds())));
    hc.addDataSourceProperty("options", "-c statement_timeout=" + Math.max(1000, timeout.toMillis() * 2));
    hc.addDataSourceProperty("reWriteBatchedInserts", "true");
    hc.addDataSourceProperty("ApplicationName", "messagestore-gateway");
    dataSource = new HikariDataSource(hc);
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /**
   * A connection of its own, outside the pool and with the pool's settings, for a caller that
   * keeps it for long (a LISTEN): it must not take one of the pool's few connections away from
   * the request and persistence paths. The caller closes it.
   */
  public Connection dedicatedConnection() throws SQLException {
    Properties props = new Properties();
    props.putAll(dataSource.getDataSourceProperties());
    props.setProperty("user", dataSource.getUsername());
    if (dataSource.getPassword() != null) {
      props.setProperty("password", dataSource.getPassword());
    }
    return DriverManager.getConnection(jdbcUrl, props);
  }

  /** Runs pending migrations once; returns false (and logs) when the database is unreachable. */
  public boolean ensureSchema() {
    if (migrated.get()) {
      return true;
    }
    synchronized (migrated) {
      if (migrated.get()) {
        return true;
      }
      try {
        var result = Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/migration")
            .load()
            .migrate();
        if (result.migrationsExecuted == 0) {
          log.info("postgres schema up to date");
        } else {
          log.info("postgres schema migrated to version {} ({} migrations applied)",
              result.targetSchemaVersion, result.migrationsExecuted);
        }
        migrated.set(true);
        return true;
      } catch (RuntimeException e) {
        log.warn("postgres schema migration not possible yet: {}", e.getMessage());
        return false;
      }
    }
  }

  public boolean schemaReady() {
    return migrated.get();
  }

  /** True when the error means the database could not be reached, not that the data was bad. */
  public static boolean isConnectivityFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLException sql) {
        String state = sql.getSQLState();
        if (state == null || state.startsWith("08") || state.startsWith("57P") || state.equals("53300")
            || state.startsWith("57014")) {
          return true;
        }
        return false;
      }
      if (c instanceof java.io.IOException) {
        return true;
      }
    }
    return true;
  }

  /**
   * Whether PostgreSQL refused a value it was given (SQLSTATE class 22, data exception, e.g. a
   * character a text column cannot hold): the request's fault, not the tier's.
   */
  public static boolean isRefusedValue(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLException sql) {
        return sql.getSQLState() != null && sql.getSQLState().startsWith("22");
      }
    }
    return false;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
