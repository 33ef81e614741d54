package io.messagestore.server.events;

/**
 * Messages of this thread were committed in PostgreSQL without Redis (a failover write, on this
 * instance or, as a notification or a poll of the marks tells, on another): nothing was
 * announced for them, so whoever follows the thread looks at storage.
 */
public record ThreadWrittenAroundRedis(String threadId) implements ClusterEvent {}
