package io.messagestore.server.events;

import io.messagestore.api.v1.Message;
import java.util.List;

/**
 * This instance's archiver moved these messages to ClickHouse and removed them from PostgreSQL
 * (one verified batch).
 */
public record MessagesArchived(List<Message> messages) implements ClusterEvent {}
