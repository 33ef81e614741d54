package io.messagestore.server.events;

import java.util.List;

/**
 * Another instance's persister committed these messages, whose durable sends may wait here;
 * heard on the Redis pub/sub channel ({@link PersistedIdsRelay}). Carries only the ids of awaited
 * messages that had no waiter on the committing instance.
 */
public record MessagesPersistedElsewhere(List<String> messageIds) implements ClusterEvent {}
