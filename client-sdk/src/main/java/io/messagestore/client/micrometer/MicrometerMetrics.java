package io.messagestore.client.micrometer;

import io.grpc.Status;
import io.messagestore.client.MessageStoreMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;

/**
 * {@link MessageStoreMetrics} as Micrometer meters:
 * <ul>
 *   <li>{@code messagestore.client.calls} (timer; tags {@code rpc}, {@code status}): logical
 *       calls from the first attempt to the last;</li>
 *   <li>{@code messagestore.client.retries} (counter; tags {@code rpc}, {@code status}): attempts
 *       that failed and were tried again;</li>
 *   <li>{@code messagestore.client.watch.resumes} (counter; tag {@code status}): broken watch
 *       streams that were reopened.</li>
 * </ul>
 *
 * <p>Micrometer ({@code io.micrometer:micrometer-core}) is an optional dependency of the SDK:
 * add it to your project to use this class.
 *
 * <pre>{@code
 * MessageStoreClientOptions.builder().metrics(new MicrometerMetrics(registry)).build();
 * }</pre>
 */
public final class MicrometerMetrics implements MessageStoreMetrics {
  private final MeterRegistry registry;

  /** Registers the meters in {@code registry} as calls happen. */
  public MicrometerMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public void callEnded(String rpc, Status.Code code, Duration duration, int attempts) {
    Timer.builder("messagestore.client.calls")
        .description("MessageStore calls, first attempt to last")
        .tag("rpc", rpc).tag("status", code.name())
        .register(registry)
        .record(duration);
  }

  @Override
  public void retrying(String rpc, Status.Code code, Duration backoff) {
    Counter.builder("messagestore.client.retries")
        .description("MessageStore attempts that failed and were tried again")
        .tag("rpc", rpc).tag("status", code.name())
        .register(registry)
        .increment();
  }

  @Override
  public void watchResuming(Status.Code code) {
    Counter.builder("messagestore.client.watch.resumes")
        .description("WatchThread streams reopened after the last delivered message")
        .tag("status", code.name())
        .register(registry)
        .increment();
  }
}
