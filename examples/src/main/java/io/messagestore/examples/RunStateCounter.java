package io.messagestore.examples;

import io.messagestore.api.v1.RunState;
import io.messagestore.client.MessageStoreClient;
import java.nio.charset.StandardCharsets;

/**
 * An agent run's state changed by read-apply-write: {@code updateRunState} retries on a version
 * conflict with the newer state, so concurrent updaters lose nothing.
 *
 * <p>Usage: {@code RunStateCounter TARGET TOKEN RUN_ID}.
 */
public final class RunStateCounter {
  private RunStateCounter() {}

  /** Runs the example; see the class comment for the arguments. */
  public static void main(String[] args) {
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(args[0]).plaintext().tokenSupplier(() -> args[1]).build()) {
      RunState state = client.updateRunState(args[2], RunStateCounter::increment);
      System.out.println("run " + args[2] + " is at version " + state.getVersion() + ", steps = "
          + state.getState().toStringUtf8());
    }
  }

  /** The state is a number of steps as text; a run without state starts at 0. */
  static byte[] increment(byte[] state) {
    long steps = state == null ? 0 : Long.parseLong(new String(state, StandardCharsets.UTF_8));
    return Long.toString(steps + 1).getBytes(StandardCharsets.UTF_8);
  }
}
