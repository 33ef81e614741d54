package io.messagestore.server.read;

import io.messagestore.api.v1.Message;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.ThreadListCache;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops the cached {@code ListThreads} pages of the users whose messages were just persisted: the
 * thread counts and activity in PostgreSQL have changed. One multi-key {@code DEL} per commit,
 * sent without waiting; a failure is only logged (the pages expire after five minutes).
 */
public final class ThreadListInvalidation implements Consumer<MessagesPersisted> {
  private static final Logger log = LoggerFactory.getLogger(ThreadListInvalidation.class);

  private final RedisTier redis;
  private final RedisKeys keys;

  public ThreadListInvalidation(RedisTier redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  @Override
  public void accept(MessagesPersisted e) {
    try {
      ThreadListCache.forget(redis.async(), keys, e.messages().stream().map(Message::getUserId).distinct().toList());
    } catch (RuntimeException ex) {
      log.debug("cannot clear cached thread lists after a commit: {}", ex.toString());
    }
  }
}
