package io.messagestore.server.persistence;

import com.google.common.collect.Lists;
import io.messagestore.api.v1.Message;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.events.MessagesPersistedElsewhere;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Answers durable sends wherever they wait, from the {@link io.messagestore.server.events.ClusterEvents}:
 * a commit made here completes the {@link PersistenceWaiters} here, and the awaited ids that have
 * no waiter here go to the other instances; what they send completes the waiters here.
 */
public final class DurableAnswers {
  private final PersistenceWaiters waiters;
  private final Consumer<Collection<String>> otherInstances;

  /**
   * @param otherInstances sends ids to the other instances, without waiting
   *     ({@link io.messagestore.server.events.PersistedIdsRelay#publish})
   */
  public DurableAnswers(PersistenceWaiters waiters, Consumer<Collection<String>> otherInstances) {
    this.waiters = waiters;
    this.otherInstances = otherInstances;
  }

  public void persistedHere(MessagesPersisted e) {
    // Every id: a durable duplicate may wait for an entry that was not itself durable.
    Set<String> answeredHere = waiters.committed(Lists.transform(e.messages(), Message::getMessageId));
    // A durable send registers its waiter before its write, so one that is not here waits
    // elsewhere (and a single instance publishes nothing).
    List<String> elsewhere = e.awaited().stream().filter(id -> !answeredHere.contains(id)).toList();
    if (!elsewhere.isEmpty()) {
      otherInstances.accept(elsewhere);
    }
  }

  public void persistedElsewhere(MessagesPersistedElsewhere e) {
    waiters.committed(e.messageIds());
  }
}
