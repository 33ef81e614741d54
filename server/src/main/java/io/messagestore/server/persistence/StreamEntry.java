package io.messagestore.server.persistence;

import com.google.protobuf.InvalidProtocolBufferException;
import io.lettuce.core.StreamMessage;
import io.messagestore.api.v1.Message;
import io.messagestore.server.pump.Delivery;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A persistence stream entry as the persister commits it (see send.lua for the fields).
 *
 * @param payload the stored {@code Message} bytes, kept for the dead-letter stream
 * @param message the parsed payload; null when it does not parse
 * @param idempotencyKey the message's idempotency key, if it has one
 * @param durable a durable send waits for its commit (on this instance or another)
 */
record StreamEntry(byte[] payload, Message message, String idempotencyKey, boolean durable) {

  /**
   * The pump's view of a delivered stream entry. A claimed entry deleted meanwhile comes back
   * with no body (and one without a payload has nothing to commit either): nothing to do but
   * acknowledge it.
   */
  static Delivery<StreamEntry> delivery(int shard, StreamMessage<String, byte[]> m, long deliveries) {
    Map<String, byte[]> body = m.getBody();
    byte[] payload = body == null ? null : body.get(DeadLetters.F_PAYLOAD);
    if (payload == null) {
      return Delivery.gone(shard, m.getId(), deliveries);
    }
    byte[] key = body.get(StreamPersister.F_IDEMPOTENCY_KEY);
    String idempotencyKey = key == null ? null : new String(key, StandardCharsets.UTF_8);
    boolean durable = body.containsKey(StreamPersister.F_DURABLE);
    try {
      return Delivery.readable(shard, m.getId(), deliveries, durable,
          new StreamEntry(payload, Message.parseFrom(payload), idempotencyKey, durable));
    } catch (InvalidProtocolBufferException e) {
      return Delivery.unreadable(shard, m.getId(), deliveries, durable,
          new StreamEntry(payload, null, idempotencyKey, durable), "payload is not a Message: " + e.getMessage());
    }
  }
}
