package io.messagestore.client.internal;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Adds {@code authorization: Bearer <token>} to every call, asking the supplier each time so
 * that a rotated token is used from the next call on.
 */
public final class BearerTokenCredentials extends CallCredentials {

  /** The header the MessageStore server reads the JWT from. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Supplier<String> tokenSupplier;

  /** @param tokenSupplier asked for the raw JWT (without "Bearer ") on every call */
  public BearerTokenCredentials(Supplier<String> tokenSupplier) {
    this.tokenSupplier = Objects.requireNonNull(tokenSupplier, "tokenSupplier");
  }

  @Override
  public void applyRequestMetadata(RequestInfo requestInfo, Executor appExecutor,
      MetadataApplier applier) {
    // The supplier may block (refreshing a token over the network), which must not happen on
    // the transport thread that calls us.
    appExecutor.execute(() -> {
      String token;
      try {
        token = tokenSupplier.get();
      } catch (RuntimeException e) {
        applier.fail(Status.UNAUTHENTICATED
            .withDescription("token supplier failed: " + e)
            .withCause(e));
        return;
      }
      if (token == null || token.isBlank()) {
        // Sending the call anyway would only earn a less helpful UNAUTHENTICATED from the server.
        applier.fail(Status.UNAUTHENTICATED.withDescription("token supplier returned no token"));
        return;
      }
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token);
      applier.apply(headers);
    });
  }
}
