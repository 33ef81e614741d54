package io.messagestore.server.watch;

import io.messagestore.api.v1.Message;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.MessagesArchived;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.events.ThreadDeleted;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the watchers of a thread, on every instance, what this instance's persisters, archiver
 * and deletions did to it: one PUBLISH per thread and event on its watch channel ({@link
 * ThreadChannel}), sent without waiting. A lost one costs a watcher latency, not an event: it
 * finds the state in storage ({@link ThreadWatch}). Confirmations are not published here: the
 * script that accepts a message does it.
 */
public final class ThreadEventPublisher {
  private static final Logger log = LoggerFactory.getLogger(ThreadEventPublisher.class);

  private final RedisTier redis;
  private final RedisKeys keys;

  public ThreadEventPublisher(RedisTier redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Subscribes to the events it publishes. */
  public void subscribeTo(ClusterEvents events) {
    events.subscribe(MessagesPersisted.class, e -> publishByThread(e.messages(), true));
    events.subscribe(MessagesArchived.class, e -> publishByThread(e.messages(), false));
    events.subscribe(ThreadDeleted.class, e -> publish(e.threadId(), ThreadChannel.deleted()));
  }

  private void publishByThread(List<Message> messages, boolean persisted) {
    Map<String, List<String>> byThread = new LinkedHashMap<>();
    for (Message m : messages) {
      byThread.computeIfAbsent(keys.watchChannel(m.getThreadId()), t -> new ArrayList<>()).add(m.getMessageId());
    }
    // Most threads have no watcher: one PUBSUB NUMSUB for the round instead of a PUBLISH per
    // thread (a commit round spans dozens of threads).
    try {
      redis.async().pubsubNumsub(byThread.keySet().toArray(new String[0])).thenAccept(subscribers ->
          byThread.forEach((channel, ids) -> {
            if (subscribers.getOrDefault(channel, 0L) > 0) {
              publishOn(channel, persisted ? ThreadChannel.persisted(ids) : ThreadChannel.archived(ids));
            }
          }));
    } catch (RuntimeException e) {
      log.debug("cannot tell the watchers of {} threads: {}", byThread.size(), e.toString());
    }
  }

  private void publish(String threadId, byte[] payload) {
    publishOn(keys.watchChannel(threadId), payload);
  }

  private void publishOn(String channel, byte[] payload) {
    try {
      redis.async().publish(channel, payload);
    } catch (RuntimeException e) {
      log.debug("cannot publish on {}: {}", channel, e.toString());
    }
  }
}
