package io.messagestore.client.internal;

import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/** Builds the requests both client views send, so the two cannot drift apart. */
public final class Requests {
  private Requests() {}

  /** A one-message send. */
  public static SendMessageRequest send(String threadId, Role role, String content,
      Durability durability) {
    return SendMessageRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .setRole(Objects.requireNonNull(role, "role"))
        .setContent(Objects.requireNonNull(content, "content"))
        .setDurability(durability)
        .build();
  }

  /** {@code request} with a random UUID idempotency key if it has none, else itself. */
  public static SendMessageRequest withIdempotencyKey(SendMessageRequest request) {
    Objects.requireNonNull(request, "request");
    if (!request.getIdempotencyKey().isEmpty()) {
      return request;
    }
    return request.toBuilder().setIdempotencyKey(UUID.randomUUID().toString()).build();
  }

  /** A batch; each message gets a key first when {@code autoKeys} is on. */
  public static SendMessageBatchRequest batch(String threadId, List<SendMessageRequest> messages,
      Durability durability, boolean autoKeys) {
    Objects.requireNonNull(threadId, "threadId");
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(durability, "durability");
    SendMessageBatchRequest.Builder batch = SendMessageBatchRequest.newBuilder()
        .setThreadId(threadId)
        .setDurability(durability);
    for (SendMessageRequest message : messages) {
      batch.addMessages(autoKeys ? withIdempotencyKey(message) : message);
    }
    return batch.build();
  }

  /** Whether every message of a batch has a key, i.e. whether repeating the batch is safe. */
  public static boolean allKeyed(SendMessageBatchRequest batch) {
    return batch.getMessagesList().stream().noneMatch(m -> m.getIdempotencyKey().isEmpty());
  }
}
