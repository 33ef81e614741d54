package io.messagestore.server.consistency;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** The checker's meters (docs/OPERATIONS.md lists them). */
final class ConsistencyMetrics {
  private final Map<FindingKind, Counter> findings = new EnumMap<>(FindingKind.class);
  private final Counter checkedByCalls;
  private final Counter checkedBySampler;
  private final AtomicReference<Double> sampledScore = new AtomicReference<>(1.0);
  private final MeterRegistry meters;

  ConsistencyMetrics(MeterRegistry meters) {
    this.meters = meters;
    for (FindingKind kind : FindingKind.values()) {
      findings.put(kind, Counter.builder("messagestore.consistency.findings").tag("kind", kind.label())
          .description("Findings of consistency checks and samples, by kind").register(meters));
    }
    checkedByCalls = Counter.builder("messagestore.consistency.checked.messages").tag("source", "check")
        .description("Messages compared across tiers").register(meters);
    checkedBySampler = Counter.builder("messagestore.consistency.checked.messages").tag("source", "sampler")
        .description("Messages compared across tiers").register(meters);
    Gauge.builder("messagestore.consistency.score", sampledScore, AtomicReference::get)
        .description("Fraction of the last sample's messages with no finding (1 before the first sample)")
        .register(meters);
  }

  /** How a {@code CheckConsistency} call ended: completed, cancelled (deadline), refused (limit), failed (a tier). */
  void ended(String outcome) {
    Counter.builder("messagestore.consistency.checks").tag("outcome", outcome)
        .description("CheckConsistency calls by how they ended").register(meters).increment();
  }

  void checked(CheckResult result, boolean sampled) {
    (sampled ? checkedBySampler : checkedByCalls).increment(result.checked());
    result.counts().forEach((kind, n) -> findings.get(kind).increment(n));
    if (sampled) {
      sampledScore.set(result.score());
    }
  }
}
