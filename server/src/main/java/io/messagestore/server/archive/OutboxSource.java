package io.messagestore.server.archive;

import io.messagestore.server.postgres.AnalyticsOutbox;
import io.messagestore.server.pump.Delivery;
import io.messagestore.server.pump.PumpSource;
import io.messagestore.server.pump.Round;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The analytics outbox in PostgreSQL as the analytics pump's source: one lane, oldest rows
 * first, while this instance holds the feeder lease. Rows leave the outbox only once ClickHouse
 * has them, so a ClickHouse outage makes the outbox longer and loses nothing.
 */
final class OutboxSource implements PumpSource<AnalyticsOutbox.Row> {
  private final AnalyticsOutbox outbox;
  private final OwnConnection connection;
  private final FeederLease lease;
  private final Duration idleWait;
  private final int batchSize;
  private final Map<Long, Long> deliveries = new HashMap<>();
  private final Set<Long> refused = new HashSet<>();
  private final List<AnalyticsOutbox.Row> committed = new ArrayList<>();
  private Instant committedReadAt;
  private Instant lastReadAt = Instant.EPOCH;
  private final Object wake = new Object();
  private volatile boolean stopping;

  OutboxSource(AnalyticsOutbox outbox, OwnConnection connection, FeederLease lease, Duration idleWait, int batchSize) {
    this.outbox = outbox;
    this.connection = connection;
    this.lease = lease;
    this.idleWait = idleWait;
    this.batchSize = batchSize;
  }

  @Override
  public String laneName(int lane) {
    return "analytics outbox";
  }

  @Override
  public void prepare() {
    acknowledge();
  }

  @Override
  public boolean read(Round<AnalyticsOutbox.Row> round, boolean topUp) {
    if (topUp || stopping || !lease.held()) {
      return false;
    }
    AnalyticsOutbox.Taken taken;
    try {
      taken = outbox.take(connection.get(), batchSize + refused.size());
    } catch (SQLException e) {
      connection.reset();
      return true;
    }
    lastReadAt = taken.readAt();
    List<Delivery<AnalyticsOutbox.Row>> delivered = new ArrayList<>();
    for (AnalyticsOutbox.Row row : taken.rows()) {
      if (refused.contains(row.seq())) {
        continue;
      }
      long n = deliveries.merge(row.seq(), 1L, Long::sum);
      delivered.add(Delivery.readable(0, Long.toString(row.seq()), n, false, row));
    }
    if (!delivered.isEmpty()) {
      round.add(0, delivered);
    }
    return false;
  }

  @Override
  public void awaitEntries() {
    synchronized (wake) {
      if (!stopping) {
        try {
          wake.wait(idleWait.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  void stop() {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  @Override
  public void committed(int lane, List<Delivery<AnalyticsOutbox.Row>> entries) {
    for (Delivery<AnalyticsOutbox.Row> d : entries) {
      committed.add(d.item());
      deliveries.remove(d.item().seq());
    }
    if (committedReadAt == null) {
      committedReadAt = lastReadAt;
    }
  }

  /** A row ClickHouse keeps refusing stays in the outbox for an operator; this instance skips it. */
  @Override
  public void deadLetter(Delivery<AnalyticsOutbox.Row> entry, String error) {
    refused.add(entry.item().seq());
    deliveries.remove(entry.item().seq());
  }

  @Override
  public void redeliver(int lane) {
    // Rows not reported committed are still in the outbox: the next read takes them first.
  }

  @Override
  public void recover(Throwable failure) {
    connection.reset();
  }

  @Override
  public void acknowledge() {
    if (committed.isEmpty()) {
      return;
    }
    try {
      outbox.remove(connection.get(), committed, committedReadAt);
    } catch (SQLException e) {
      connection.reset();
      throw new IllegalStateException("copied analytics rows stay queued until PostgreSQL answers: " + e.getMessage(), e);
    }
    committed.clear();
    committedReadAt = null;
  }

  @Override
  public void collectOutstanding(Round<AnalyticsOutbox.Row> round) {
    // Reads never wait: nothing is outstanding.
  }

  @Override
  public void awaitAcknowledgements() {
    // Acknowledging is synchronous.
  }

  @Override
  public void close() {
    // The connection belongs to the archiver.
  }
}
