package io.messagestore.examples;

import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.client.MessageStoreAsyncClient;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.MessageStoreClientBuilder;
import io.messagestore.client.MessageStoreClientOptions;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Sends through the SDK's asynchronous view as the load tester does with {@code -c N}: N
 * callers, each sending its next message as soon as the previous one is answered, 512 random
 * characters to one of 50 threads. {@code scripts/bench.py sdk} runs it and the load tester on
 * the same gateway in the same run.
 *
 * <p>It warms up for WARMUP seconds, prints {@code measure-start}, sends for SECONDS seconds,
 * prints {@code measure-end} and one JSON line:
 * {@code {"count":..,"rps":..,"errors":..,"p50_ms":..,"p99_ms":..}} (client-side latency).
 *
 * <p>Usage: {@code SdkLoadDriver TARGET TOKEN THREAD_PREFIX CONCURRENCY WARMUP SECONDS [keyed]
 * [direct]}; with {@code keyed} every send gets an SDK-made idempotency key (the SDK's default),
 * else none (the load tester's plain sends); with {@code direct} the client runs its callbacks
 * on gRPC's network threads ({@code executor(Runnable::run)}), as the load tester does.
 */
public final class SdkLoadDriver {
  private static final char[] ALPHABET =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".toCharArray();

  private final MessageStoreAsyncClient client;
  private final String threadPrefix;
  private final Recorder latency = new Recorder(3);
  private final LongAdder done = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicLong stopAt = new AtomicLong();
  private final LongAdder running = new LongAdder();

  private SdkLoadDriver(MessageStoreAsyncClient client, String threadPrefix) {
    this.client = client;
    this.threadPrefix = threadPrefix;
  }

  /** Runs the driver; see the class comment for the arguments. */
  public static void main(String[] args) throws InterruptedException {
    String target = args[0];
    String token = args[1];
    int concurrency = Integer.parseInt(args[3]);
    Duration warmup = Duration.ofSeconds(Long.parseLong(args[4]));
    Duration measured = Duration.ofSeconds(Long.parseLong(args[5]));
    java.util.List<String> flags = java.util.Arrays.asList(args).subList(Math.min(6, args.length), args.length);
    boolean keyed = flags.contains("keyed");
    MessageStoreClientOptions options = MessageStoreClientOptions.builder()
        .autoIdempotencyKeys(keyed)
        .deadline(Duration.ofSeconds(20))
        .build();
    MessageStoreClientBuilder builder = MessageStoreClient.builder()
        .target(target).plaintext().tokenSupplier(() -> token).options(options);
    if (flags.contains("direct")) {
      // Nothing here blocks: the next send starts from the previous one's callback.
      builder.executor(Runnable::run);
    }
    try (MessageStoreClient client = builder.build()) {
      SdkLoadDriver driver = new SdkLoadDriver(client.async(), args[2]);
      driver.run(concurrency, warmup);
      driver.latency.reset();
      long count0 = driver.done.sum();
      long errors0 = driver.errors.sum();
      System.out.println("measure-start");
      System.out.flush();
      long start = System.nanoTime();
      driver.run(concurrency, measured);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.println("measure-end");
      var histogram = driver.latency.getIntervalHistogram();
      long count = driver.done.sum() - count0;
      System.out.printf(Locale.ROOT,
          "{\"count\":%d,\"rps\":%.1f,\"errors\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f}%n",
          count, count / seconds, driver.errors.sum() - errors0,
          histogram.getValueAtPercentile(50) / 1e6, histogram.getValueAtPercentile(99) / 1e6);
    }
  }

  /** N closed-loop callers for {@code duration}; returns when every one has stopped. */
  private void run(int concurrency, Duration duration) throws InterruptedException {
    stopAt.set(System.nanoTime() + duration.toNanos());
    for (int i = 0; i < concurrency; i++) {
      running.increment();
      next();
    }
    while (running.sum() > 0) {
      Thread.sleep(10); // only the main thread waits here; the callers run on gRPC's threads
    }
  }

  private void next() {
    if (System.nanoTime() >= stopAt.get()) {
      running.decrement();
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] content = new char[512];
    for (int i = 0; i < content.length; i++) {
      content[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    SendMessageRequest request = SendMessageRequest.newBuilder()
        .setThreadId(threadPrefix + random.nextInt(50))
        .setRole(Role.ROLE_USER)
        .setContent(new String(content))
        .build();
    long start = System.nanoTime();
    client.send(request).whenComplete((answer, failure) -> {
      latency.recordValue(System.nanoTime() - start);
      if (failure != null) {
        errors.increment();
      } else {
        done.increment();
      }
      next();
    });
  }
}
