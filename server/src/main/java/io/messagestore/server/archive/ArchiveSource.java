package io.messagestore.server.archive;

import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.ArchiveRows;
import io.messagestore.server.pump.Delivery;
import io.messagestore.server.pump.PumpSource;
import io.messagestore.server.pump.Round;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL messages past the hot retention, as the archive pump's source: one lane, read
 * oldest first while this instance holds the feeder lease. A batch leaves PostgreSQL only when
 * the pump reports it committed (copied to ClickHouse and read back), in the same statement that
 * raises its threads' {@code archived_messages}; until then it is simply read again. A message
 * ClickHouse keeps refusing stays in PostgreSQL, where reads find it, and is not offered again
 * by this instance. While callers keep the gateway busy, the archiver yields: at most one batch
 * per ten seconds (more once it falls an hour behind).
 */
final class ArchiveSource implements PumpSource<Message> {
  private static final Logger log = LoggerFactory.getLogger(ArchiveSource.class);

  private final ArchiveRows rows;
  private final OwnConnection connection;
  private final FeederLease lease;
  private final Duration hotRetention;
  private final Duration interval;
  private final int batchSize;
  private final Clock clock;
  private final Map<String, Long> deliveries = new HashMap<>();
  private final Set<String> refused = new HashSet<>();
  private final List<Message> committed = new ArrayList<>();
  private Instant committedReadAt;
  private Instant lastReadAt = Instant.EPOCH;
  private long runMessages;
  private final Object wake = new Object();
  private volatile boolean stopping;
  private final DoubleSupplier requestRate;
  private final DoubleSupplier lagSeconds;
  private Instant roundStarted = Instant.EPOCH;
  private Duration yieldBefore = Duration.ZERO;

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

  ArchiveSource(ArchiveRows rows, OwnConnection connection, FeederLease lease, Duration hotRetention,
      Duration interval, int batchSize, Clock clock, DoubleSupplier requestRate, DoubleSupplier lagSeconds) {
    this.requestRate = requestRate;
    this.lagSeconds = lagSeconds;
    this.rows = rows;
    this.connection = connection;
    this.lease = lease;
    this.hotRetention = hotRetention;
    this.interval = interval;
    this.batchSize = batchSize;
    this.clock = clock;
  }

  /** The smallest UUIDv7 of the millisecond {@code at}: ids below it are older. */
  static String cutoffId(Instant at) {
    return new UUID((at.toEpochMilli() << 16) | 0x7000, 0x8000000000000000L).toString();
  }

  @Override
  public String laneName(int lane) {
    return "messages past the hot retention";
  }

  @Override
  public void prepare() {
    acknowledge();
  }

  @Override
  public boolean read(Round<Message> round, boolean topUp) {
    if (topUp || stopping) {
      return false;
    }
    yieldWhileBusy();
    if (!lease.held()) {
      return false;
    }
    roundStarted = clock.instant();
    ArchiveRows.Batch batch;
    try {
      batch = rows.nextBatch(connection.get(), cutoffId(clock.instant().minus(hotRetention)), batchSize, refused);
    } catch (SQLException e) {
      connection.reset();
      log.debug("archiver cannot read PostgreSQL: {}", e.toString());
      return true;
    }
    if (batch.messages().isEmpty()) {
      if (runMessages > 0) {
        lease.recordRun(runMessages, null);
        runMessages = 0;
      }
      return false;
    }
    lastReadAt = batch.readAt();
    List<Delivery<Message>> delivered = new ArrayList<>(batch.messages().size());
    for (Message m : batch.messages()) {
      long n = deliveries.merge(m.getMessageId(), 1L, Long::sum);
      delivered.add(Delivery.readable(0, m.getMessageId(), n, false, m));
    }
    round.add(0, delivered);
    return false;
  }

  /**
   * The pause after a batch, in slices: it ends early once the callers are gone (a pause
   * computed under load must not hold the archiver back after the load), and never lasts more
   * than {@link #LONGEST_YIELD}.
   */
  private void yieldWhileBusy() {
    if (yieldBefore.isZero()) {
      return;
    }
    Instant until = clock.instant().plus(yieldBefore.compareTo(LONGEST_YIELD) > 0 ? LONGEST_YIELD : yieldBefore);
    yieldBefore = Duration.ZERO;
    while (!stopping && clock.instant().isBefore(until) && requestRate.getAsDouble() > BUSY_REQUEST_RATE) {
      Duration left = Duration.between(clock.instant(), until);
      await(left.compareTo(YIELD_SLICE) < 0 ? left : YIELD_SLICE);
    }
  }

  @Override
  public void awaitEntries() {
    await(interval);
  }

  private void await(Duration d) {
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

  /** Ends a wait for the next interval at once (the gateway stops). */
  void stop() {
    stopping = true;
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  @Override
  public void committed(int lane, List<Delivery<Message>> entries) {
    for (Delivery<Message> d : entries) {
      committed.add(d.item());
      deliveries.remove(d.id());
    }
    if (committedReadAt == null) {
      committedReadAt = lastReadAt;
    }
  }

  @Override
  public void deadLetter(Delivery<Message> entry, String error) {
    refused.add(entry.id());
    deliveries.remove(entry.id());
    lease.recordRun(runMessages, "ClickHouse refuses message " + entry.id() + " (kept in PostgreSQL): " + error);
  }

  @Override
  public void redeliver(int lane) {
    // Whatever was not reported committed is still in PostgreSQL: the next read finds it first.
  }

  @Override
  public void recover(Throwable failure) {
    connection.reset();
  }

  /** Removes what ClickHouse holds now from PostgreSQL; kept for the next round if PostgreSQL is away. */
  @Override
  public void acknowledge() {
    if (committed.isEmpty()) {
      return;
    }
    try {
      rows.remove(connection.get(), committed, committedReadAt);
    } catch (SQLException e) {
      connection.reset();
      throw new IllegalStateException("archived messages stay in PostgreSQL until it answers: " + e.getMessage(), e);
    }
    runMessages += committed.size();
    committed.clear();
    committedReadAt = null;
    if (requestRate.getAsDouble() > BUSY_REQUEST_RATE) {
      Duration took = Duration.between(roundStarted, clock.instant());
      boolean behind = lagSeconds.getAsDouble() > CATCH_UP_LAG.toSeconds();
      Duration share = took.multipliedBy(YIELD_FACTOR);
      yieldBefore = behind ? took : share.compareTo(BUSY_PAUSE) > 0 ? share : BUSY_PAUSE;
    }
  }

  @Override
  public void collectOutstanding(Round<Message> round) {
    // Reads never wait: nothing is outstanding.
  }

  @Override
  public void awaitAcknowledgements() {
    // Acknowledging is synchronous.
  }

  @Override
  public void close() {
    if (runMessages > 0) {
      lease.recordRun(runMessages, null);
    }
  }
}
