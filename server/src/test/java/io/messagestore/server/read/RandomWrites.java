package io.messagestore.server.read;

import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.testing.TestGateway;
import java.util.List;
import java.util.Random;

/** Writes for the pagination property tests: single sends and batches, mixed at random. */
final class RandomWrites {
  private RandomWrites() {}

  /**
   * Writes {@code n} messages to {@code thread} as alice, in single sends and batches of up to
   * {@code maxBatch}, and appends their ids to {@code written} in id order.
   */
  static void write(TestGateway gw, String thread, Random random, List<String> written, int n, int maxBatch) {
    int left = n;
    while (left > 0) {
      int chunk = Math.min(left, 1 + random.nextInt(maxBatch));
      if (chunk == 1) {
        written.add(gw.as("alice").sendMessage(SendMessageRequest.newBuilder().setThreadId(thread)
            .setRole(Role.ROLE_USER).setContent("x").build()).getMessage().getMessageId());
      } else {
        SendMessageBatchRequest.Builder b = SendMessageBatchRequest.newBuilder().setThreadId(thread);
        for (int i = 0; i < chunk; i++) {
          b.addMessages(SendMessageRequest.newBuilder().setRole(Role.ROLE_ASSISTANT).setContent("b" + i));
        }
        gw.as("alice").sendMessageBatch(b.build()).getResultsList()
            .forEach(r -> written.add(r.getMessage().getMessageId()));
      }
      left -= chunk;
    }
  }
}
