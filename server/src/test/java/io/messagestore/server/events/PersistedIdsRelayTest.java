package io.messagestore.server.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.config.RedisSettings;
import io.messagestore.server.eventloop.EventLoops;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The persisted-ids channel between instances, on a Redis of the test's own. */
class PersistedIdsRelayTest {

  @Test
  void aRelayStartedWhileRedisIsAwaySubscribesOnceItIsBackAndHearsWhatIsPublished() throws Exception {
    int port = FreePorts.next();
    Path dir = LocalTiers.privateDir("redis");
    List<MessagesPersistedElsewhere> heard = new CopyOnWriteArrayList<>();
    ClusterEvents events = new ClusterEvents();
    events.subscribe(MessagesPersistedElsewhere.class, heard::add);
    try (EventLoops loops = new EventLoops(1)) {
      RedisTier redis = new RedisTier(new RedisSettings(URI.create("redis://127.0.0.1:" + port), Duration.ofSeconds(1)), loops);
      try (PersistedIdsRelay relay = new PersistedIdsRelay(redis, new RedisKeys(4), events)) {
        relay.start();
        assertThat(relay.subscribed()).as("subscribed with nothing listening").isFalse();

        LocalTiers.startPrivate("redis", port, dir);
        Poll.until(Duration.ofSeconds(30), "the relay to subscribe once Redis is there", relay::subscribed);
        relay.publish(List.of("m1", "m2"));
        Poll.until(Duration.ofSeconds(10), "the published ids to come back as an event", () -> !heard.isEmpty());
        assertThat(heard).containsExactly(new MessagesPersistedElsewhere(List.of("m1", "m2")));
      } finally {
        redis.close();
      }
    } finally {
      LocalTiers.stopPrivate("redis", dir);
    }
  }
}
