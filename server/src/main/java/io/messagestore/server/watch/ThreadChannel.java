package io.messagestore.server.watch;

import com.google.protobuf.InvalidProtocolBufferException;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.ThreadEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * What travels on a thread's watch channel ({@code RedisKeys#watchChannel}): one Redis pub/sub
 * message per change, a type byte and its body.
 *
 * <ul>
 *   <li>{@code C} + the thread's previous id (36 characters, {@code -} when unknown) + the
 *       message's protobuf bytes: published by {@code send.lua} in the script that accepts the
 *       message, so the announcements of one thread come in the order of its ids, each naming the
 *       one before it.
 *   <li>{@code P} + comma-separated ids: committed in PostgreSQL.
 *   <li>{@code A} + comma-separated ids: moved to the ClickHouse archive.
 *   <li>{@code X}: the thread was deleted.
 * </ul>
 * Pub/sub delivers at most once: a watcher never relies on hearing all of them (see {@link
 * ThreadWatch}).
 */
final class ThreadChannel {
  static final int ID_LENGTH = 36;

  private ThreadChannel() {}

  /** One decoded announcement. */
  sealed interface Change permits Confirmed, Persisted, Archived, Deleted {}

  /**
   * @param previousId the id before this message in its thread, null when Redis did not know it
   * @param event the MESSAGE_CONFIRMED event, built once for every watcher of the thread here
   */
  record Confirmed(String previousId, Message message, ThreadEvent event) implements Change {
    Confirmed(String previousId, Message message) {
      this(previousId, message, confirmedEvent(message));
    }
  }

  static ThreadEvent confirmedEvent(Message m) {
    return ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_CONFIRMED).setThreadId(m.getThreadId())
        .setMessageId(m.getMessageId()).setMessage(m).setOccurredAt(m.getCreatedAt()).build();
  }

  record Persisted(List<String> messageIds) implements Change {}

  record Archived(List<String> messageIds) implements Change {}

  record Deleted() implements Change {}

  static byte[] persisted(Collection<String> ids) {
    return ("P" + String.join(",", ids)).getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] archived(Collection<String> ids) {
    return ("A" + String.join(",", ids)).getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] deleted() {
    return new byte[] {'X'};
  }

  /** The change, or null for a payload this version does not know (a newer instance's). */
  static Change decode(byte[] payload) throws InvalidProtocolBufferException {
    if (payload.length == 0) {
      return null;
    }
    switch (payload[0]) {
      case 'C':
        if (payload.length < 1 + ID_LENGTH) {
          throw new InvalidProtocolBufferException("confirmation shorter than its previous id");
        }
        String previous = new String(payload, 1, ID_LENGTH, StandardCharsets.US_ASCII);
        Message m = Message.parseFrom(Arrays.copyOfRange(payload, 1 + ID_LENGTH, payload.length));
        return new Confirmed(previous.charAt(0) == '-' ? null : previous, m);
      case 'P':
        return new Persisted(ids(payload));
      case 'A':
        return new Archived(ids(payload));
      case 'X':
        return new Deleted();
      default:
        return null;
    }
  }

  private static List<String> ids(byte[] payload) {
    String body = new String(payload, 1, payload.length - 1, StandardCharsets.US_ASCII);
    return body.isEmpty() ? List.of() : Arrays.asList(body.split(","));
  }
}
