package io.messagestore.server.pump;

import java.util.List;

/**
 * Where a {@link BatchPump}'s entries come from, e.g. the Redis persistence streams (one lane per
 * shard), or PostgreSQL rows older than the retention for the archiver.
 *
 * <p>The contract that makes the pump crash-safe: an entry stays with the source, to be
 * delivered again (to this pump or, after a crash, to another), until the pump reports it
 * {@link #committed} or it has been {@link #deadLetter dead-lettered}. So an entry is committed
 * at least once, and the destination must take a repeated commit as a no-op.
 *
 * <p>The contract that keeps order: a lane is read by one read at a time and delivers its
 * entries in their order; the pump commits them in that order, one round after the other.
 * What the pump asks to be delivered again ({@link #redeliver}, {@link #recover}) comes before
 * anything newer of its lane.
 *
 * <p>Every method is called on the pump's thread. A method that throws a runtime exception
 * fails the round: the pump calls {@link #recover} and backs off.
 */
public interface PumpSource<T> {

  /** A lane's name, for log lines. */
  String laneName(int lane);

  /**
   * Gets ready to read (connections, consumer groups; lazily, so that the pump starts while the
   * source is away) and sends the acknowledgements left over from earlier rounds.
   */
  void prepare();

  /**
   * Adds to {@code round} what the lanes have now, without waiting for more. A lane whose
   * read that waits ({@link #awaitEntries}) is still out is skipped. With {@code topUp} (a
   * lingering round asks for company) only entries never delivered before are read.
   *
   * @return whether a lane's read failed (the pump backs off when the round stays empty)
   */
  boolean read(Round<T> round, boolean topUp);

  /**
   * Nothing arrived anywhere: waits, for a bounded time, until a lane may have entries. What a
   * read that waited brings is added by the next {@link #read}, which then marks the round
   * {@link Round#markWoken woken}.
   */
  void awaitEntries();

  /**
   * These entries of {@code lane} are in the destination (or {@link Delivery.Kind#GONE gone}):
   * they may leave the source with the next {@link #acknowledge}.
   */
  void committed(int lane, List<Delivery<T>> entries);

  /**
   * Puts an entry the destination keeps refusing where an operator can see and replay it, then
   * lets it leave the source like a committed one.
   *
   * @throws Exception when that cannot be done now: the entry stays and comes back
   */
  void deadLetter(Delivery<T> entry, String error) throws Exception;

  /**
   * The destination went away while the lane's entries were committed one by one: those not
   * reported committed must be delivered again, before anything newer of the lane, and without
   * counting against them.
   */
  void redeliver(int lane);

  /**
   * A round failed with {@code failure} (the source was unreachable, a reply was lost):
   * whatever was delivered and not reported committed must be delivered again.
   */
  void recover(Throwable failure);

  /** Sends the acknowledgements of what was committed or dead-lettered, without waiting. */
  void acknowledge();

  /** At the stop: adds to {@code round} what reads still out delivered meanwhile. */
  void collectOutstanding(Round<T> round);

  /** At the stop: waits, for a bounded time, for the acknowledgements sent. */
  void awaitAcknowledgements();

  /** Releases connections; the pump has stopped. */
  void close();
}
