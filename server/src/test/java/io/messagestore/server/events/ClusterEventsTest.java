package io.messagestore.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterEventsTest {
  final ClusterEvents events = new ClusterEvents();
  final List<String> heard = new ArrayList<>();

  static MessagesPersisted persisted(String... ids) {
    List<Message> messages = new ArrayList<>();
    for (String id : ids) {
      messages.add(Message.newBuilder().setMessageId(id).build());
    }
    return new MessagesPersisted(messages, List.of(), 0);
  }

  @Test
  void subscribersHearTheirTypeOfEventInTheOrderTheySubscribed() {
    events.subscribe(MessagesPersisted.class, e -> heard.add("first " + e.messages().size()));
    events.subscribe(MessagesPersistedElsewhere.class, e -> heard.add("elsewhere " + e.messageIds()));
    events.subscribe(ClusterEvent.class, e -> heard.add("any " + e.getClass().getSimpleName()));
    events.subscribe(MessagesPersisted.class, e -> heard.add("second " + e.messages().size()));

    events.publish(persisted("a", "b"));
    events.publish(new MessagesPersistedElsewhere(List.of("c")));

    assertThat(heard).containsExactly("first 2", "any MessagesPersisted", "second 2", "elsewhere [c]",
        "any MessagesPersistedElsewhere");
  }

  @Test
  void aFailingSubscriberDoesNotKeepTheEventFromTheOthers() {
    events.subscribe(MessagesPersisted.class, e -> {
      throw new IllegalStateException("subscriber bug");
    });
    events.subscribe(MessagesPersisted.class, e -> heard.add("after the failing one"));

    events.publish(persisted("a"));

    assertThat(heard).containsExactly("after the failing one");
  }

  @Test
  void anEventNobodySubscribedToIsDropped() {
    events.subscribe(MessagesPersistedElsewhere.class, e -> heard.add("elsewhere"));

    events.publish(persisted("a"));

    assertThat(heard).isEmpty();
  }
}
