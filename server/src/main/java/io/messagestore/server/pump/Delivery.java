package io.messagestore.server.pump;

/**
 * One entry a {@link PumpSource} delivered, as the pump sees it.
 *
 * @param lane the source's ordered lane it came from (a stream shard): entries of one lane are
 *     committed in the order delivered
 * @param id the source's id of the entry, which the source acknowledges or dead-letters it by
 * @param deliveries how often the source has delivered it, this time included: a refused entry
 *     is dead-lettered once this reaches the pump's limit
 * @param urgent someone waits for its commit (a durable send): the round does not linger
 * @param item what the destination commits (null only for a {@link Kind#GONE} entry); for an
 *     unreadable entry whatever the source needs to dead-letter it
 * @param unreadable why the destination could never take it (its payload does not parse);
 *     null unless {@link Kind#UNREADABLE}
 */
public record Delivery<T>(Kind kind, int lane, String id, long deliveries, boolean urgent, T item, String unreadable) {

  /** What the pump does with a delivered entry. */
  public enum Kind {
    /** Committed with the rest of its lane's batch. */
    READABLE,
    /** Refused without trying: counted as a failed delivery, dead-lettered at the limit. */
    UNREADABLE,
    /** Nothing left to commit (the source lost its body meanwhile): only acknowledged. */
    GONE
  }

  public static <T> Delivery<T> readable(int lane, String id, long deliveries, boolean urgent, T item) {
    return new Delivery<>(Kind.READABLE, lane, id, deliveries, urgent, item, null);
  }

  public static <T> Delivery<T> unreadable(int lane, String id, long deliveries, boolean urgent, T item, String why) {
    return new Delivery<>(Kind.UNREADABLE, lane, id, deliveries, urgent, item, why);
  }

  public static <T> Delivery<T> gone(int lane, String id, long deliveries) {
    return new Delivery<>(Kind.GONE, lane, id, deliveries, false, null, null);
  }
}
