package io.messagestore.server.watch;

import io.messagestore.api.v1.ThreadEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** What the watches of this instance do, for Prometheus. */
final class WatchMetrics {
  private final MeterRegistry meters;
  private final Map<ThreadEvent.Type, Counter> delivered = new EnumMap<>(ThreadEvent.Type.class);
  private final Map<String, Counter> behind = new ConcurrentHashMap<>();
  private final Counter started;
  private final Counter resumed;
  private final Counter refused;
  private final Counter unreportedPersisted;
  private final DistributionSummary delay;

  WatchMetrics(MeterRegistry meters, Supplier<Number> active) {
    this.meters = meters;
    Gauge.builder("messagestore.watch.active", active).description("WatchThread streams open on this instance")
        .register(meters);
    for (ThreadEvent.Type t : ThreadEvent.Type.values()) {
      if (t != ThreadEvent.Type.TYPE_UNSPECIFIED && t != ThreadEvent.Type.UNRECOGNIZED) {
        delivered.put(t, Counter.builder("messagestore.watch.events").tag("type", t.name().toLowerCase())
            .description("events sent to watchers").register(meters));
      }
    }
    started = Counter.builder("messagestore.watch.started").tag("from", "now")
        .description("watches started").register(meters);
    resumed = Counter.builder("messagestore.watch.started").tag("from", "after_message_id")
        .description("watches started").register(meters);
    refused = Counter.builder("messagestore.watch.refused").description(
        "watches refused because MESSAGESTORE_MAX_WATCHERS were open").register(meters);
    unreportedPersisted = Counter.builder("messagestore.watch.unreported.persisted").description(
        "MESSAGE_PERSISTED events not sent: the watcher had more than 10000 messages waiting for their commit")
        .register(meters);
    delay = DistributionSummary.builder("messagestore.watch.delay").baseUnit("milliseconds")
        .description("from a message's acknowledgement (its id's time) to its MESSAGE_CONFIRMED leaving for a "
            + "watcher that was live")
        .publishPercentileHistogram().register(meters);
  }

  void started(boolean resuming) {
    (resuming ? resumed : started).increment();
  }

  void refused() {
    refused.increment();
  }

  void delivered(ThreadEvent e, boolean live, long nowMillis) {
    Counter c = delivered.get(e.getType());
    if (c != null) {
      c.increment();
    }
    if (live) {
      long created = e.getOccurredAt().getSeconds() * 1000 + e.getOccurredAt().getNanos() / 1_000_000;
      delay.record(Math.max(0, nowMillis - created));
    }
  }

  /** A watcher went to storage: {@code reason} is slow_reader, missed_announcement or resubscribed. */
  void fellBehind(String reason) {
    behind.computeIfAbsent(reason, r -> Counter.builder("messagestore.watch.behind").tag("reason", r)
        .description("times a live watcher went to storage to catch up").register(meters)).increment();
  }

  void unreportedPersisted() {
    unreportedPersisted.increment();
  }
}
