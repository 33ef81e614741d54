package example;

import io.messagestore.api.v1.Role;
import io.messagestore.client.MessageStoreClient;

/** Sends one message and prints the thread: {@code Hello TARGET TOKEN THREAD}. */
public final class Hello {
  public static void main(String[] args) {
    String target = args[0];
    String token = args[1];
    String thread = args[2];
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(target).plaintext()
        .tokenSupplier(() -> token)
        .build()) {
      client.send(thread, Role.ROLE_USER, "hello from outside");
      client.messages(thread).forEach(m -> System.out.println(m.getContent()));
    }
  }
}
