package io.messagestore.examples;

import io.messagestore.api.v1.Role;
import io.messagestore.client.CallType;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.MessageStoreClientOptions;
import io.messagestore.client.MessageStoreException;
import io.messagestore.client.RetryPolicy;
import io.messagestore.client.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * Retry settings per call type, several gateways, and Micrometer metrics of calls and retries.
 *
 * <p>Usage: {@code RetrySettings TARGETS TOKEN THREAD}, TARGETS e.g. {@code 127.0.0.1:50051,127.0.0.1:50052}.
 */
public final class RetrySettings {
  private RetrySettings() {}

  /** Runs the example; see the class comment for the arguments. */
  public static void main(String[] args) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MessageStoreClientOptions options = MessageStoreClientOptions.builder()
        .deadline(Duration.ofSeconds(2))                      // each attempt
        .retryPolicy(CallType.SEND, RetryPolicy.builder()
            .maxAttempts(8)
            .initialBackoff(Duration.ofMillis(50))
            .maxBackoff(Duration.ofSeconds(1))
            .totalDeadline(Duration.ofSeconds(10))            // all attempts together
            .build())
        .retryPolicy(CallType.READ, RetryPolicy.DEFAULT)
        .metrics(new MicrometerMetrics(registry))
        .build();
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(args[0]).plaintext().tokenSupplier(() -> args[1]).options(options).build()) {
      client.send(args[2], Role.ROLE_USER, "sent with up to 8 attempts, stored once");
    } catch (MessageStoreException e) {
      System.err.println(e.getCode() + " after " + e.getAttempts() + " attempts: " + e.getDescription());
    }
    registry.getMeters().forEach(m -> System.out.println(m.getId() + " " + m.measure()));
  }
}
