package io.messagestore.server.events;

import io.messagestore.api.v1.Message;
import java.util.List;

/**
 * This instance's persister committed these messages to PostgreSQL (one commit: a round's
 * batches, or one entry of a refused batch).
 *
 * @param messages the committed messages; a message may have been committed before (a
 *     redelivery is a no-op in PostgreSQL, and is announced again)
 * @param awaited ids among {@code messages} a durable send waits for, on this instance or another
 * @param committedAtMillis when the commit completed
 */
public record MessagesPersisted(List<Message> messages, List<String> awaited, long committedAtMillis)
    implements ClusterEvent {}
