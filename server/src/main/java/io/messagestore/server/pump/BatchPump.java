package io.messagestore.server.pump;

import io.messagestore.server.resilience.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves entries from a {@link PumpSource} to a {@link PumpDestination} in rounds, on one thread:
 * the skeleton of the persisters (Redis streams to PostgreSQL), and of the archiver and the
 * analytics feed to come (to ClickHouse).
 *
 * <p>A round reads what every lane of the source has ({@link State#READING}), commits all of it
 * in one call to the destination ({@link State#COMMITTING}), tells the listener, and has the
 * source acknowledge it. Rounds run back to back, so under load a round is everything that
 * arrived while the one before was committed (a group commit). When a round finds nothing the
 * pump waits for the source ({@link State#IDLE}); a short round that woke it up waits the
 * linger once for company ({@link State#LINGERING}), unless someone waits for one of its
 * entries.
 *
 * <p>Failures, and what they cost the entries:
 * <ul>
 *   <li>The destination unreachable: the same round is retried in place with backoff until it
 *       commits ({@link State#RETRYING_COMMIT}); nothing else is read meanwhile and nothing
 *       counts against the entries.
 *   <li>A lane's batch refused for its data: its entries are committed one at a time
 *       ({@link State#ISOLATING}); the good ones commit, a refused one stays with the source and
 *       comes back; once it has been delivered {@code maxDeliveries} times it is dead-lettered.
 *       The other lanes' batches commit as usual. Should the destination go away meanwhile, the
 *       rest of the lane is delivered again, with nothing counted against it.
 *   <li>An unreadable entry: refused without a commit attempt, the same way.
 *   <li>The source failing (or anything unexpected): the source recovers what the round had
 *       read, and the pump backs off ({@link State#BACKING_OFF}).
 * </ul>
 *
 * <p>Order: the source delivers a lane in order, and a lane's entries are committed in the order
 * delivered, one round after the other. Backoff pauses come from a resilience4j
 * {@code IntervalFunction} ({@link Backoff}): 50 ms doubling to 1 s.
 */
public final class BatchPump<T> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(BatchPump.class);
  static final Duration RETRY_SHORTEST = Duration.ofMillis(50);
  static final Duration RETRY_LONGEST = Duration.ofSeconds(1);

  /** What the pump is doing; see {@link #state()}. */
  public enum State {
    STARTING,
    /** The destination cannot take commits yet ({@link PumpDestination#ready}). */
    WAITING_FOR_DESTINATION,
    READING,
    /** Nothing to do: waiting for the source to have entries. */
    IDLE,
    /** A short round waits for company. */
    LINGERING,
    COMMITTING,
    /** The destination is away: the round is retried after a pause. */
    RETRYING_COMMIT,
    /** A lane's batch was refused: its entries are committed one at a time. */
    ISOLATING,
    /** The source failed: pausing before the next round. */
    BACKING_OFF,
    /** Stopping: committing what outstanding reads brought, waiting for acknowledgements. */
    DRAINING,
    STOPPED
  }

  /** Waits between attempts; tests replace it to run the rounds without sleeping. */
  @FunctionalInterface
  interface Pause {
    void pause(Duration d);
  }

  private final String name;
  private final PumpSource<T> source;
  private final PumpDestination<T> destination;
  private final PumpListener<T> listener;
  private final Clock clock;
  private final int batchSize;
  private final Duration linger;
  private final int maxDeliveries;
  private final Pause pause;
  /** Pauses of the rounds themselves (destination not ready, source failing); reset by a round that read. */
  private final Backoff roundBackoff = newBackoff();
  private volatile boolean running = true;
  private volatile State state = State.STARTING;

  /**
   * @param name for log lines ("persister")
   * @param batchSize the most entries a lane delivers per read; a woken round smaller than this
   *     lingers
   * @param linger how long a short woken round waits for company (zero: never)
   * @param maxDeliveries deliveries after which an entry the destination refuses is dead-lettered
   */
  public BatchPump(String name, PumpSource<T> source, PumpDestination<T> destination, PumpListener<T> listener,
      Clock clock, int batchSize, Duration linger, int maxDeliveries) {
    this(name, source, destination, listener, clock, batchSize, linger, maxDeliveries, BatchPump::sleep);
  }

  BatchPump(String name, PumpSource<T> source, PumpDestination<T> destination, PumpListener<T> listener,
      Clock clock, int batchSize, Duration linger, int maxDeliveries, Pause pause) {
    this.name = name;
    this.source = source;
    this.destination = destination;
    this.listener = listener;
    this.clock = clock;
    this.batchSize = batchSize;
    this.linger = linger;
    this.maxDeliveries = maxDeliveries;
    this.pause = pause;
  }

  /** Stops reading; the round being committed finishes and is acknowledged. */
  public void stop() {
    running = false;
  }

  public State state() {
    return state;
  }

  @Override
  public void run() {
    while (!stopping()) {
      step();
    }
    finish();
  }

  /** An interrupt (the executor shutting down) stops the pump like {@link #stop()}. */
  private boolean stopping() {
    return !running || Thread.currentThread().isInterrupted();
  }

  /** One round, or one wait: for the destination, for entries, or after a failure. */
  void step() {
    try {
      if (!destination.ready()) {
        state = State.WAITING_FOR_DESTINATION;
        pause.pause(roundBackoff.next());
        return;
      }
      state = State.READING;
      source.prepare();
      Round<T> round = new Round<>();
      boolean readFailed = source.read(round, false);
      if (round.isEmpty()) {
        if (readFailed) {
          state = State.BACKING_OFF;
          pause.pause(roundBackoff.next());
        } else {
          state = State.IDLE;
          source.awaitEntries();
        }
        return;
      }
      roundBackoff.reset();
      // Lingering trades latency nobody sees for fewer commits; a waiting caller sees all of it.
      if (round.woken() && round.size() < batchSize && !linger.isZero() && !round.urgent()) {
        state = State.LINGERING;
        pause.pause(linger);
        source.read(round, true);
      }
      commit(round);
      source.acknowledge();
    } catch (RuntimeException | Error e) {
      // Whatever was read and not committed is still with the source: it delivers it again.
      source.recover(e);
      if (!stopping()) {
        state = State.BACKING_OFF;
        log.debug("{} waiting for its source: {}", name, e.toString());
        pause.pause(roundBackoff.next());
      }
    }
  }

  /** Commits one round; returns when it is committed or left with the source for redelivery. */
  void commit(Round<T> round) {
    List<LaneBatch<T>> batches = new ArrayList<>();
    for (Map.Entry<Integer, List<Delivery<T>>> e : round.byLane().entrySet()) {
      LaneBatch<T> b = new LaneBatch<>(e.getKey());
      for (Delivery<T> d : e.getValue()) {
        switch (d.kind()) {
          case GONE -> source.committed(b.lane, List.of(d));
          case UNREADABLE -> failed(d, d.unreadable());
          case READABLE -> b.add(d);
        }
      }
      if (!b.deliveries.isEmpty()) {
        batches.add(b);
      }
    }
    if (batches.isEmpty()) {
      return;
    }
    state = State.COMMITTING;
    List<Exception> refused;
    Backoff retry = newBackoff();
    long start;
    while (true) {
      start = System.nanoTime();
      try {
        refused = destination.commit(batches.stream().map(b -> b.items).toList());
        break;
      } catch (Exception e) {
        // Destination unreachable: nothing counts against the entries; the round waits for it.
        if (stopping() && retry.atLongest()) {
          // Stopping with the destination away: the entries stay with the source for the next pump.
          return;
        }
        state = State.RETRYING_COMMIT;
        listener.commitFailed(e);
        pause.pause(retry.next());
      }
    }
    long nanos = System.nanoTime() - start;
    long committedAt = clock.millis();
    List<T> committed = new ArrayList<>();
    List<LaneBatch<T>> refusedBatches = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      LaneBatch<T> b = batches.get(i);
      if (refused.get(i) == null) {
        source.committed(b.lane, b.deliveries);
        committed.addAll(b.items);
      } else {
        refusedBatches.add(b);
      }
    }
    // Once per round: what listeners do with a commit costs per call, not per entry.
    if (!committed.isEmpty()) {
      listener.committed(committed, committedAt, nanos);
    }
    if (!refusedBatches.isEmpty()) {
      state = State.ISOLATING;
      refusedBatches.forEach(this::commitOneByOne);
    }
  }

  /** A batch the destination refused: find the entries it refuses, commit the rest. */
  private void commitOneByOne(LaneBatch<T> b) {
    for (Delivery<T> d : b.deliveries) {
      try {
        long start = System.nanoTime();
        destination.commitOne(d.item());
        listener.committed(List.of(d.item()), clock.millis(), System.nanoTime() - start);
        source.committed(b.lane, List.of(d));
      } catch (Exception e) {
        if (destination.unreachable(e)) {
          // Not the entry's fault: the rest are delivered again, with nothing counted against them.
          source.redeliver(b.lane);
          listener.commitFailed(e);
          return;
        }
        failed(d, e.getMessage());
      }
    }
  }

  /** The destination refused an entry (or could never take it): dead-lettered at the limit. */
  private void failed(Delivery<T> d, String error) {
    String lane = source.laneName(d.lane());
    if (d.deliveries() < maxDeliveries) {
      log.warn("{} {}: entry {} failed (delivery {} of {}): {}", name, lane, d.id(), d.deliveries(), maxDeliveries,
          error);
      return;
    }
    try {
      source.deadLetter(d, error);
      log.error("{} {}: entry {} dead-lettered after {} deliveries: {}", name, lane, d.id(), d.deliveries(), error);
    } catch (Exception e) {
      log.warn("{} {}: cannot dead-letter {} yet: {}", name, lane, d.id(), e.toString());
    }
  }

  /**
   * After the loop: entries that reads still out delivered meanwhile are this pump's now, so they
   * are committed too (or left with the source for the next pump), and acknowledgements are
   * waited for.
   */
  void finish() {
    state = State.DRAINING;
    Round<T> last = new Round<>();
    source.collectOutstanding(last);
    try {
      if (!last.isEmpty()) {
        commit(last);
      }
      source.acknowledge();
      source.awaitAcknowledgements();
    } catch (RuntimeException e) {
      log.warn("{}: acknowledgements left for the next instance: {}", name, e.toString());
    }
    source.close();
    state = State.STOPPED;
  }

  private static Backoff newBackoff() {
    return Backoff.exponential(RETRY_SHORTEST, RETRY_LONGEST);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One lane's readable entries of a round, and what the destination commits of them. */
  private static final class LaneBatch<T> {
    final int lane;
    final List<Delivery<T>> deliveries = new ArrayList<>();
    final List<T> items = new ArrayList<>();

    LaneBatch(int lane) {
      this.lane = lane;
    }

    void add(Delivery<T> d) {
      deliveries.add(d);
      items.add(d.item());
    }
  }
}
