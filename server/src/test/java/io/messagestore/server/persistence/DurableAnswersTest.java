package io.messagestore.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.events.MessagesPersistedElsewhere;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Where a commit's durable answers go: waiters here, or the other instances. */
class DurableAnswersTest {
  final PersistenceWaiters waiters = new PersistenceWaiters(null);
  final List<List<String>> toOtherInstances = new ArrayList<>();
  final DurableAnswers answers = new DurableAnswers(waiters, ids -> toOtherInstances.add(List.copyOf(ids)));

  static MessagesPersisted persisted(List<String> ids, List<String> awaited) {
    List<Message> messages = ids.stream().map(id -> Message.newBuilder().setMessageId(id).build()).toList();
    return new MessagesPersisted(messages, awaited, 0);
  }

  @Test
  void aCommitAnswersTheWaitersHereAndSendsTheOtherAwaitedIdsElsewhere() {
    CompletableFuture<Void> here = waiters.register("m1");

    answers.persistedHere(persisted(List.of("m1", "m2", "m3"), List.of("m1", "m3")));

    assertThat(here).isCompleted();
    assertThat(toOtherInstances).containsExactly(List.of("m3"));
  }

  @Test
  void aDurableDuplicateWaitingForAnEntryThatWasNotDurableIsAnsweredToo() {
    CompletableFuture<Void> duplicate = waiters.register("m1");

    answers.persistedHere(persisted(List.of("m1"), List.of()));

    assertThat(duplicate).isCompleted();
    assertThat(toOtherInstances).isEmpty();
  }

  @Test
  void whenEveryAwaitedIdWaitsHereNothingIsSentElsewhere() {
    waiters.register("m1");

    answers.persistedHere(persisted(List.of("m1", "m2"), List.of("m1")));

    assertThat(toOtherInstances).isEmpty();
  }

  @Test
  void idsHeardFromAnotherInstanceAnswerTheWaitersHere() {
    CompletableFuture<Void> here = waiters.register("m1");
    CompletableFuture<Void> other = waiters.register("m2");

    answers.persistedElsewhere(new MessagesPersistedElsewhere(List.of("m1", "m9")));

    assertThat(here).isCompleted();
    assertThat(other).isNotDone();
    assertThat(toOtherInstances).isEmpty();
  }
}
