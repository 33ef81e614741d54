package io.messagestore.server.archive;

import io.messagestore.api.v1.Message;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.MessagesArchived;
import io.messagestore.server.postgres.ArchiveRows;
import io.messagestore.server.write.MessageIdGenerator;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * PostgreSQL messages past the hot retention, as the archive pump's source: read oldest first,
 * they leave PostgreSQL only once copied to ClickHouse and read back, in the statement that
 * raises their threads' {@code archived_messages}. While callers keep the gateway busy, the
 * archiver yields: at most one batch per ten seconds (more once it falls an hour behind).
 */
final class ArchiveSource extends TableSource<Message> {
  /** Calls per second at which the request path counts as busy, and the archiver yields. */
  static final double BUSY_REQUEST_RATE = 20;
  /**
   * While the request path is busy, the archiver waits this many times as long as its last batch
   * took, and at least {@link #BUSY_PAUSE}, before the next one. A batch leaves work behind that
   * its own time does not show (ClickHouse merges the parts it inserted, PostgreSQL vacuums the
   * rows it deleted: measured about 140 µs of machine CPU per message in all), so the pause is
   * long: one batch per ten seconds under load (docs/BENCHMARKS.md: cache sends at 1.05 x their
   * rate without the archiver, against the no-op next to each, i.e. within noise).
   * Idle, it runs batches back to back.
   */
  static final int YIELD_FACTOR = 9;
  static final Duration BUSY_PAUSE = Duration.ofSeconds(10);
  /**
   * Once the oldest message is this far past the hot retention, the archiver is falling behind
   * for good (a write rate the yielding share cannot follow): it then takes half the time, busy
   * or not, so that PostgreSQL does not grow without bound.
   */
  static final Duration CATCH_UP_LAG = Duration.ofHours(1);
  static final Duration LONGEST_YIELD = Duration.ofSeconds(10);
  static final Duration YIELD_SLICE = Duration.ofMillis(200);

  private final ArchiveRows rows;
  private final ClusterEvents events;
  private final FeederLease lease;
  private final Duration hotRetention;
  private final int batchSize;
  private final Clock clock;
  private final DoubleSupplier requestRate;
  private final DoubleSupplier lagSeconds;
  private long runMessages;
  private Instant roundStarted = Instant.EPOCH;
  private Duration yieldBefore = Duration.ZERO;

  ArchiveSource(ArchiveRows rows, OwnConnection connection, FeederLease lease, Duration hotRetention,
      Duration interval, int batchSize, Clock clock, DoubleSupplier requestRate, DoubleSupplier lagSeconds,
      ClusterEvents events) {
    super(connection, lease, interval);
    this.rows = rows;
    this.events = events;
    this.lease = lease;
    this.hotRetention = hotRetention;
    this.batchSize = batchSize;
    this.clock = clock;
    this.requestRate = requestRate;
    this.lagSeconds = lagSeconds;
  }

  /** The smallest UUIDv7 of the millisecond {@code at}: ids below it are older. */
  static String cutoffId(Instant at) {
    return MessageIdGenerator.firstIdAt(at.toEpochMilli());
  }

  @Override
  public String laneName(int lane) {
    return "messages past the hot retention";
  }

  @Override
  Fetched<Message> fetch(Connection c, Collection<String> refused) throws SQLException {
    roundStarted = clock.instant();
    ArchiveRows.Batch batch = rows.nextBatch(c, cutoffId(clock.instant().minus(hotRetention)), batchSize, refused);
    return new Fetched<>(batch.messages(), batch.readAt());
  }

  @Override
  String idOf(Message m) {
    return m.getMessageId();
  }

  @Override
  void remove(Connection c, List<Message> archived, Instant readAt) throws SQLException {
    rows.remove(c, archived, readAt);
    events.publish(new MessagesArchived(List.copyOf(archived)));
  }

  /**
   * The pause after a batch, in slices: it ends early once the callers are gone (a pause
   * computed under load must not hold the archiver back after the load), and never lasts more
   * than {@link #LONGEST_YIELD}.
   */
  @Override
  void beforeRead() {
    if (yieldBefore.isZero()) {
      return;
    }
    Instant until = clock.instant().plus(yieldBefore.compareTo(LONGEST_YIELD) > 0 ? LONGEST_YIELD : yieldBefore);
    yieldBefore = Duration.ZERO;
    while (!stopping() && clock.instant().isBefore(until) && requestRate.getAsDouble() > BUSY_REQUEST_RATE) {
      Duration left = Duration.between(clock.instant(), until);
      await(left.compareTo(YIELD_SLICE) < 0 ? left : YIELD_SLICE);
    }
  }

  @Override
  void nothingToMove() {
    if (runMessages > 0) {
      lease.recordRun(runMessages, null);
      runMessages = 0;
    }
  }

  @Override
  void removed(int count) {
    runMessages += count;
    if (requestRate.getAsDouble() > BUSY_REQUEST_RATE) {
      Duration took = Duration.between(roundStarted, clock.instant());
      boolean behind = lagSeconds.getAsDouble() > CATCH_UP_LAG.toSeconds();
      Duration share = took.multipliedBy(YIELD_FACTOR);
      yieldBefore = behind ? took : share.compareTo(BUSY_PAUSE) > 0 ? share : BUSY_PAUSE;
    }
  }

  @Override
  void setAside(String id, String error) {
    lease.recordRun(runMessages, "ClickHouse refuses message " + id + " (kept in PostgreSQL): " + error);
  }

  @Override
  public void close() {
    nothingToMove();
  }
}
