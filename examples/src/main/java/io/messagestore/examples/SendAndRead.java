package io.messagestore.examples;

import io.messagestore.api.v1.Role;
import io.messagestore.client.MessageStoreClient;

/**
 * Send a message and read the thread back: the client-sdk README's first example.
 *
 * <p>Usage: {@code SendAndRead TARGET TOKEN THREAD}, e.g. {@code 127.0.0.1:50051 "$MESSAGESTORE_TOKEN" demo}.
 */
public final class SendAndRead {
  private SendAndRead() {}

  /** Runs the example; see the class comment for the arguments. */
  public static void main(String[] args) {
    String target = args[0];
    String token = args[1];
    String thread = args[2];
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(target).plaintext()            // TLS is the default; plaintext for a local gateway
        .tokenSupplier(() -> token)            // asked on every call, so tokens can rotate
        .build()) {
      client.send(thread, Role.ROLE_USER, "hello");
      client.sendDurable(thread, Role.ROLE_ASSISTANT, "hi, stored in PostgreSQL");
      client.messages(thread).forEach(m -> System.out.println(m.getRole() + ": " + m.getContent()));
    }
  }
}
