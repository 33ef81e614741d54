package io.messagestore.server.events;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channel on which what happens in the cluster reaches the parts that react to it: a commit
 * completes durable sends, clears cached thread lists, tells other instances; commits, archive
 * batches and deletions reach the watchers of their threads on every instance. The publisher
 * knows none of them.
 *
 * <p>Delivery is synchronous, on the publishing thread, to the subscribers of the event's type
 * in the order they subscribed (like resilience4j's event publishers): a subscriber that has
 * more than a few microseconds of work hands it to a thread of its own, because the publisher
 * (the persister's loop) waits for it. A subscriber that throws is logged and does not keep the
 * event from the others.
 */
public final class ClusterEvents {
  private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);

  private final List<Subscription<?>> subscriptions = new CopyOnWriteArrayList<>();

  /** Calls {@code subscriber} with every event of {@code type} published from now on. */
  public <E extends ClusterEvent> void subscribe(Class<E> type, Consumer<? super E> subscriber) {
    subscriptions.add(new Subscription<>(type, subscriber));
  }

  public void publish(ClusterEvent event) {
    for (Subscription<?> s : subscriptions) {
      try {
        s.offer(event);
      } catch (RuntimeException e) {
        log.warn("a subscriber of {} failed: {}", event.getClass().getSimpleName(), e.toString(), e);
      }
    }
  }

  private record Subscription<E extends ClusterEvent>(Class<E> type, Consumer<? super E> subscriber) {
    void offer(ClusterEvent event) {
      if (type.isInstance(event)) {
        subscriber.accept(type.cast(event));
      }
    }
  }
}
