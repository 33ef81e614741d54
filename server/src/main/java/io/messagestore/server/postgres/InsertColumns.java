package io.messagestore.server.postgres;

import io.messagestore.api.v1.Message;
import java.util.Collection;
import java.util.UUID;

/**
 * The parameters of the message inserts ({@link PostgresMessageStore}): one array per column,
 * the i-th entry of each for the i-th message, bound to the statement's {@code unnest}. Public
 * for the PostgreSQL driver A/B ({@code benchmarks/}), which must bind exactly these.
 *
 * @param idempotencyKeys null where a message has none (never empty)
 * @param createdMillis milliseconds since the epoch
 */
public record InsertColumns(UUID[] ids, String[] threads, String[] users, Short[] roles, String[] contents,
    String[] metadata, String[] idempotencyKeys, Long[] createdMillis) {

  /**
   * @param idempotencyKeys one per message, null or empty for none; null for no keys at all
   */
  public static InsertColumns of(Collection<Message> messages, Collection<String> idempotencyKeys) {
    int n = messages.size();
    InsertColumns c = new InsertColumns(new UUID[n], new String[n], new String[n], new Short[n], new String[n],
        new String[n], idempotencyKeys == null ? new String[n] : idempotencyKeys.toArray(new String[0]), new Long[n]);
    int i = 0;
    for (Message m : messages) {
      c.ids[i] = UUID.fromString(m.getMessageId());
      c.threads[i] = m.getThreadId();
      c.users[i] = m.getUserId();
      c.roles[i] = (short) m.getRoleValue();
      c.contents[i] = m.getContent();
      c.metadata[i] = MessageRows.metadataJson(m);
      if (c.idempotencyKeys[i] != null && c.idempotencyKeys[i].isEmpty()) {
        c.idempotencyKeys[i] = null;
      }
      c.createdMillis[i] = MessageRows.createdMillis(m);
      i++;
    }
    return c;
  }
}
