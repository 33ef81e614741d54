package io.messagestore.server.archive;

import io.messagestore.server.postgres.ArchiveRows;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease that lets one gateway instance at a time feed ClickHouse (archive and analytics): a
 * row in PostgreSQL, renewed while this instance works, taken over by another instance once it
 * expires (its holder was killed or cut off). Two feeders at once would only repeat copies, which
 * ClickHouse takes as no-ops; the lease saves the work, it does not guard correctness.
 */
final class FeederLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FeederLease.class);

  private final String holder;
  private final Duration ttl;
  private final ArchiveRows rows;
  private final OwnConnection connection;
  private final Clock clock;
  private Instant renewDue = Instant.MIN;
  private boolean held;

  FeederLease(String holder, Duration ttl, ArchiveRows rows, OwnConnection connection, Clock clock) {
    this.holder = holder;
    this.ttl = ttl;
    this.rows = rows;
    this.connection = connection;
    this.clock = clock;
  }

  /** Whether this instance holds the lease now; renews or tries to take it when due. */
  synchronized boolean held() {
    Instant now = clock.instant();
    if (now.isBefore(renewDue)) {
      return held;
    }
    boolean before = held;
    try {
      held = rows.acquire(connection.get(), holder, ttl);
    } catch (SQLException e) {
      connection.reset();
      held = false;
    }
    // Renewing at a third of the lifetime leaves two chances before it runs out.
    renewDue = now.plus(held ? ttl.dividedBy(3) : ttl.dividedBy(6));
    if (held != before) {
      log.info("archiver lease {} by {}", held ? "taken" : "lost", holder);
    }
    return held;
  }

  String holder() {
    return holder;
  }

  void recordRun(long messages, String error) {
    try {
      rows.recordRun(connection.get(), holder, messages, error);
    } catch (SQLException e) {
      connection.reset();
    }
  }

  /** Gives the lease up, so that another instance need not wait for it to expire. */
  @Override
  public synchronized void close() {
    if (held) {
      try {
        rows.release(connection.get(), holder);
      } catch (SQLException e) {
        log.debug("releasing the archiver lease", e);
      }
      held = false;
    }
    connection.close();
  }
}
