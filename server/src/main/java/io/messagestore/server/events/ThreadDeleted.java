package io.messagestore.server.events;

/** DeleteThread erased this thread from Redis and PostgreSQL on this instance. */
public record ThreadDeleted(String threadId) implements ClusterEvent {}
