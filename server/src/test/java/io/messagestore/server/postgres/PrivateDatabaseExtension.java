package io.messagestore.server.postgres;

import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Each test's own {@link PrivateDatabase}, with a {@link PostgresMessageStore} on it: made before
 * the test, dropped after it.
 *
 * <pre>
 * &#64;RegisterExtension
 * final PrivateDatabaseExtension postgres = new PrivateDatabaseExtension();
 * </pre>
 */
final class PrivateDatabaseExtension implements BeforeEachCallback, AfterEachCallback {
  private PrivateDatabase db;
  private PostgresMessageStore store;

  @Override
  public void beforeEach(ExtensionContext context) throws SQLException {
    db = new PrivateDatabase();
    store = new PostgresMessageStore(db.tier, Duration.ofHours(24));
  }

  @Override
  public void afterEach(ExtensionContext context) throws SQLException {
    db.close();
  }

  PrivateDatabase db() {
    return db;
  }

  PostgresMessageStore store() {
    return store;
  }
}
