package io.messagestore.examples;

import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.client.MessageStoreAsyncClient;
import io.messagestore.client.MessageStoreClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Ten sends in flight at once through the asynchronous view, then a read of one of them.
 *
 * <p>Usage: {@code AsyncSends TARGET TOKEN THREAD}.
 */
public final class AsyncSends {
  private AsyncSends() {}

  /** Runs the example; see the class comment for the arguments. */
  public static void main(String[] args) {
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(args[0]).plaintext().tokenSupplier(() -> args[1]).build()) {
      MessageStoreAsyncClient async = client.async();
      List<CompletableFuture<SendMessageResponse>> sends = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        sends.add(async.send(args[2], Role.ROLE_USER, "message " + i));
      }
      CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
      String lastId = sends.get(9).join().getMessage().getMessageId();
      Message last = async.get(args[2], lastId).join();
      System.out.println("sent 10, the last reads back as: " + last.getContent());
    }
  }
}
