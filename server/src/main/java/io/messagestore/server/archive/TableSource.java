package io.messagestore.server.archive;

import io.messagestore.server.pump.Delivery;
import io.messagestore.server.pump.PumpSource;
import io.messagestore.server.pump.Round;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A PostgreSQL table as a batch pump's source (one lane), for the feeder that holds the lease:
 * rows are read oldest first and leave the table only once the pump reports them committed to
 * ClickHouse, so whatever was not committed is simply read again (a crash, ClickHouse away, a
 * redelivery). A row ClickHouse keeps refusing stays in the table, where an operator finds it,
 * and this instance does not offer it again. Acknowledging is synchronous, on the feeder's own
 * connection.
 *
 * @param <T> a row as the destination takes it
 */
abstract class TableSource<T> implements PumpSource<T> {
  /** Rows read at once, and when the database read them. */
  record Fetched<T>(List<T> rows, Instant readAt) {}

  private final OwnConnection connection;
  private final FeederLease lease;
  private final Duration idleWait;
  private final Map<String, Long> deliveries = new HashMap<>();
  private final Set<String> refused = new HashSet<>();
  private final List<T> committed = new ArrayList<>();
  private Instant committedReadAt;
  private Instant lastReadAt = Instant.EPOCH;
  private final Object wake = new Object();
  private volatile boolean stopping;

  TableSource(OwnConnection connection, FeederLease lease, Duration idleWait) {
    this.connection = connection;
    this.lease = lease;
    this.idleWait = idleWait;
  }

  /** The oldest rows, leaving out those refused before. */
  abstract Fetched<T> fetch(Connection c, Collection<String> refused) throws SQLException;

  /** The row's id, as the pump and a refusal name it. */
  abstract String idOf(T row);

  /** Removes rows ClickHouse has now; {@code readAt} is when they were read. */
  abstract void remove(Connection c, List<T> rows, Instant readAt) throws SQLException;

  /** Runs before each read; a source that yields to callers waits here. */
  void beforeRead() {
  }

  /** A read found nothing to move. */
  void nothingToMove() {
  }

  /** {@code count} rows left the table. */
  void removed(int count) {
  }

  /** A row this instance stops offering: ClickHouse refused it {@code deliveries} times. */
  void setAside(String id, String error) {
  }

  @Override
  public final void prepare() {
    acknowledge();
  }

  @Override
  public final boolean read(Round<T> round, boolean topUp) {
    if (topUp || stopping) {
      return false;
    }
    beforeRead();
    if (stopping || !lease.held()) {
      return false;
    }
    Fetched<T> fetched;
    try {
      fetched = fetch(connection.get(), refused);
    } catch (SQLException e) {
      connection.reset();
      return true;
    }
    lastReadAt = fetched.readAt();
    List<Delivery<T>> delivered = new ArrayList<>(fetched.rows().size());
    for (T row : fetched.rows()) {
      String id = idOf(row);
      if (!refused.contains(id)) {
        delivered.add(Delivery.readable(0, id, deliveries.merge(id, 1L, Long::sum), false, row));
      }
    }
    if (delivered.isEmpty()) {
      nothingToMove();
      return false;
    }
    round.add(0, delivered);
    return false;
  }

  @Override
  public final void awaitEntries() {
    await(idleWait);
  }

  /** Waits, unless the feeder stops meanwhile. */
  final void await(Duration d) {
    synchronized (wake) {
      if (!stopping) {
        try {
          wake.wait(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  final boolean stopping() {
    return stopping;
  }

  /** Ends a wait at once (the gateway stops). */
  final void stop() {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  @Override
  public final void committed(int lane, List<Delivery<T>> entries) {
    for (Delivery<T> d : entries) {
      committed.add(d.item());
      deliveries.remove(d.id());
    }
    if (committedReadAt == null) {
      committedReadAt = lastReadAt;
    }
  }

  @Override
  public final void deadLetter(Delivery<T> entry, String error) {
    refused.add(entry.id());
    deliveries.remove(entry.id());
    setAside(entry.id(), error);
  }

  @Override
  public final void redeliver(int lane) {
    // Whatever was not reported committed is still in the table: the next read finds it first.
  }

  @Override
  public final void recover(Throwable failure) {
    connection.reset();
  }

  /** Removes what ClickHouse holds now; kept for the next round while PostgreSQL is away. */
  @Override
  public final void acknowledge() {
    if (committed.isEmpty()) {
      return;
    }
    try {
      remove(connection.get(), committed, committedReadAt);
    } catch (SQLException e) {
      connection.reset();
      throw new IllegalStateException("rows copied to ClickHouse stay in PostgreSQL until it answers: "
          + e.getMessage(), e);
    }
    int count = committed.size();
    committed.clear();
    committedReadAt = null;
    removed(count);
  }

  @Override
  public final void collectOutstanding(Round<T> round) {
    // Reads never wait: nothing is outstanding.
  }

  @Override
  public final void awaitAcknowledgements() {
    // Acknowledging is synchronous.
  }
}
