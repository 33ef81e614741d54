package io.messagestore.server.pump;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The pump's rounds against an in-memory source and a recording destination: what is committed,
 * acknowledged, retried, delivered again and dead-lettered, and the pauses in between. The same
 * failures against real tiers are in WriteOutageTest and GatewayCrashTest.
 */
class BatchPumpTest {
  static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

  final RecordingDestination destination = new RecordingDestination();
  final List<List<String>> announced = new ArrayList<>();
  final List<Exception> commitFailures = new ArrayList<>();
  final List<Duration> pauses = new ArrayList<>();
  final List<BatchPump.State> states = new ArrayList<>();

  final PumpListener<String> listener = new PumpListener<>() {
    @Override
    public void committed(List<String> items, long committedAtMillis, long commitNanos) {
      announced.add(List.copyOf(items));
    }

    @Override
    public void commitFailed(Exception failure) {
      commitFailures.add(failure);
    }
  };

  BatchPump<String> pump(InMemorySource source, int maxDeliveries, Duration linger) {
    AtomicReference<BatchPump<String>> pump = new AtomicReference<>();
    pump.set(new BatchPump<>("test pump", source, destination, listener, CLOCK, 10, linger, maxDeliveries, d -> {
      pauses.add(d);
      states.add(pump.get().state());
    }));
    return pump.get();
  }

  BatchPump<String> pump(InMemorySource source, int maxDeliveries) {
    return pump(source, maxDeliveries, Duration.ZERO);
  }

  @Test
  void aRoundCommitsEveryLaneInOneCallAndAcknowledgesIt() {
    InMemorySource source = new InMemorySource(2, 10).add(0, "a1", "a2").add(1, "b1");

    pump(source, 3).step();

    assertThat(destination.attempts).containsExactly(List.of(List.of("a1", "a2"), List.of("b1")));
    assertThat(source.acknowledged).containsExactly("a1", "a2", "b1");
    assertThat(announced).containsExactly(List.of("a1", "a2", "b1"));
    assertThat(pauses).isEmpty();
  }

  @Test
  void aLaneIsCommittedInTheOrderItWasDeliveredRoundAfterRound() {
    InMemorySource source = new InMemorySource(1, 2).add(0, "m1", "m2", "m3", "m4", "m5");
    BatchPump<String> pump = pump(source, 3);

    pump.step();
    pump.step();
    pump.step();

    assertThat(destination.stored).containsExactly("m1", "m2", "m3", "m4", "m5");
    assertThat(announced).containsExactly(List.of("m1", "m2"), List.of("m3", "m4"), List.of("m5"));
  }

  @Test
  void aRefusedEntryHoldsBackOnlyItselfAndStaysWithTheSource() {
    InMemorySource source = new InMemorySource(2, 10).add(0, "a1", "poison", "a2").add(1, "b1");
    destination.refuse("poison");
    BatchPump<String> pump = pump(source, 3);

    pump.step();

    // The other lane's batch commits with the round; the refused lane goes one entry at a time.
    assertThat(destination.attempts).containsExactly(
        List.of(List.of("a1", "poison", "a2"), List.of("b1")), "a1", "poison", "a2");
    assertThat(destination.stored).containsExactly("b1", "a1", "a2");
    assertThat(announced).containsExactly(List.of("b1"), List.of("a1"), List.of("a2"));
    assertThat(source.acknowledged).containsExactly("b1", "a1", "a2");
    // Below the delivery limit: neither acknowledged nor dead-lettered, so it comes back.
    assertThat(source.pending(0)).containsExactly("poison");
    assertThat(source.deadLettered).isEmpty();
    assertThat(pump.state()).isEqualTo(BatchPump.State.ISOLATING);
  }

  @Test
  void anEntryRefusedOnEveryDeliveryIsDeadLetteredAtTheLimit() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "poison", "good");
    destination.refuse("poison");
    BatchPump<String> pump = pump(source, 2);

    pump.step();
    assertThat(source.deadLettered).isEmpty();

    source.claimOnNextRead();
    pump.step();

    assertThat(source.deadLettered).containsOnlyKeys("poison");
    assertThat(source.deadLettered.get("poison")).contains("refused poison");
    assertThat(source.pending(0)).isEmpty();
    assertThat(destination.stored).containsExactly("good");
  }

  @Test
  void anUnreadableEntryIsRefusedWithoutACommitAttempt() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "unreadable-1", "good");
    BatchPump<String> pump = pump(source, 1);

    pump.step();

    assertThat(destination.attempts).containsExactly(List.of(List.of("good")));
    assertThat(source.deadLettered).containsEntry("unreadable-1", "payload is not a Message");
    assertThat(source.acknowledged).containsExactly("good");
  }

  @Test
  void connectivityLossMidBatchRetriesTheSameRoundWithBackoffAndCountsNothingAgainstIt() {
    InMemorySource source = new InMemorySource(2, 10).add(0, "a1").add(1, "b1");
    destination.awayFor = 7;
    BatchPump<String> pump = pump(source, 1);

    pump.step();

    assertThat(pauses).extracting(Duration::toMillis).containsExactly(50L, 100L, 200L, 400L, 800L, 1000L, 1000L);
    assertThat(states).containsOnly(BatchPump.State.RETRYING_COMMIT);
    assertThat(commitFailures).hasSize(7);
    // Nothing else read meanwhile: the round waits for the destination.
    assertThat(source.reads).isEqualTo(1);
    assertThat(destination.attempts).hasSize(8).containsOnly(List.of(List.of("a1"), List.of("b1")));
    assertThat(destination.stored).containsExactly("a1", "b1");
    // One delivery allowed, and yet nothing dead-lettered: the outage is not the entries' fault.
    assertThat(source.deadLettered).isEmpty();
    assertThat(announced).containsExactly(List.of("a1", "b1"));
  }

  @Test
  void connectivityLossWhileIsolatingLeavesTheRestOfTheLaneForRedeliveryUncounted() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "poison", "victim", "good");
    destination.refuse("poison").awayAtCommitOf("victim");
    BatchPump<String> pump = pump(source, 1);

    pump.step();

    assertThat(source.deadLettered).containsOnlyKeys("poison");
    assertThat(source.redelivered).containsExactly(0);
    assertThat(commitFailures).hasSize(1);
    // "good" was not tried: the destination had gone away.
    assertThat(destination.attempts).endsWith("poison", "victim");

    pump.step();

    assertThat(destination.stored).containsExactly("victim", "good");
    assertThat(source.deadLettered).containsOnlyKeys("poison");
    assertThat(source.pending(0)).isEmpty();
  }

  @Test
  void aSourceFailureIsRecoveredAndBackedOffUntilARoundReadsAgain() {
    InMemorySource source = new InMemorySource(1, 10);
    BatchPump<String> pump = pump(source, 3);
    RuntimeException lost = new RuntimeException("connection lost");

    source.failNextRead = lost;
    pump.step();
    source.failNextRead = lost;
    pump.step();
    source.add(0, "m1");
    pump.step();
    source.failNextRead = lost;
    pump.step();

    assertThat(source.recovered).containsExactly(lost, lost, lost);
    assertThat(pauses).extracting(Duration::toMillis).containsExactly(50L, 100L, 50L);
    assertThat(states).containsOnly(BatchPump.State.BACKING_OFF);
    assertThat(destination.stored).containsExactly("m1");
  }

  @Test
  void nothingIsReadWhileTheDestinationIsNotReady() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "m1");
    destination.ready = false;
    BatchPump<String> pump = pump(source, 3);

    pump.step();
    pump.step();

    assertThat(source.reads).isZero();
    assertThat(pauses).extracting(Duration::toMillis).containsExactly(50L, 100L);
    assertThat(pump.state()).isEqualTo(BatchPump.State.WAITING_FOR_DESTINATION);

    destination.ready = true;
    pump.step();
    assertThat(destination.stored).containsExactly("m1");
  }

  @Test
  void anEmptyRoundWaitsForTheSource() {
    InMemorySource source = new InMemorySource(1, 10);
    BatchPump<String> pump = pump(source, 3);

    pump.step();

    assertThat(source.waits).isEqualTo(1);
    assertThat(pauses).isEmpty();
    assertThat(pump.state()).isEqualTo(BatchPump.State.IDLE);
  }

  @Test
  void aShortRoundThatWokeThePumpLingersOnceForCompany() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "m1");
    BatchPump<String> pump = pump(source, 3, Duration.ofMillis(5));

    source.nextReadWakes();
    pump.step();

    assertThat(pauses).containsExactly(Duration.ofMillis(5));
    assertThat(states).containsExactly(BatchPump.State.LINGERING);
    assertThat(source.reads).isEqualTo(2);
  }

  @Test
  void aRoundSomeoneWaitsForDoesNotLinger() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "m1", "urgent-2");
    BatchPump<String> pump = pump(source, 3, Duration.ofMillis(5));

    source.nextReadWakes();
    pump.step();

    assertThat(pauses).isEmpty();
    assertThat(destination.stored).containsExactly("m1", "urgent-2");
  }

  @Test
  void stoppingWhileTheDestinationIsAwayLeavesTheEntriesWithTheSource() {
    InMemorySource source = new InMemorySource(1, 10).add(0, "m1");
    destination.awayFor = Integer.MAX_VALUE;
    BatchPump<String> pump = pump(source, 3);

    pump.stop();
    pump.run();

    // Retried until the backoff reaches its longest pause, then given up on.
    assertThat(pauses).extracting(Duration::toMillis).containsExactly(50L, 100L, 200L, 400L, 800L);
    assertThat(destination.stored).isEmpty();
    assertThat(source.pending(0)).containsExactly("m1");
    assertThat(source.acknowledged).isEmpty();
    assertThat(source.closed).isTrue();
    assertThat(pump.state()).isEqualTo(BatchPump.State.STOPPED);
  }
}
