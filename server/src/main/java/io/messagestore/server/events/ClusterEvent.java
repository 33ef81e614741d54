package io.messagestore.server.events;

/**
 * Something that happened in the cluster that other parts of the system react to, published on
 * {@link ClusterEvents}. A switch over the permitted types is exhaustive: a new kind of event is
 * a compile error in every subscriber that must handle it.
 */
public sealed interface ClusterEvent permits MessagesPersisted, MessagesPersistedElsewhere, MessagesArchived,
    ThreadDeleted, ThreadWrittenAroundRedis {}
