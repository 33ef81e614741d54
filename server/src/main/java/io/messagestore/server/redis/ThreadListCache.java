package io.messagestore.server.redis;

import com.google.protobuf.InvalidProtocolBufferException;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.server.resilience.TierBreakers;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cached {@code ListThreads} pages, per user: a hash ({@code ms:u:{<user>}:threads}) whose fields
 * are the page requests ({@code <page_size>|<page_token>}) and whose values are the answers.
 *
 * <p>Thread counts and activity live in PostgreSQL and change when the persisters commit a user's
 * messages, or when a failover repair brings Redis up to date with messages written around it:
 * both {@linkplain #forget drop} the user's pages then. A TTL, renewed whenever a page is cached,
 * bounds staleness when a drop is missed. A page read here is also kept by the near cache until
 * the user's hash changes in Redis, so a caller polling its thread list costs no round trip.
 */
public final class ThreadListCache {
  private static final Logger log = LoggerFactory.getLogger(ThreadListCache.class);
  static final Duration TTL = Duration.ofMinutes(5);

  private final RedisTier redis;
  private final NearCache nearCache;
  private final RedisValues redisValues;
  private final RedisKeys keys;
  private final TierBreakers breakers;

  public ThreadListCache(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      TierBreakers breakers) {
    this.redis = redis;
    this.nearCache = nearCache;
    this.redisValues = redisValues;
    this.keys = keys;
    this.breakers = breakers;
  }

  /** The near cache's copy of the page, or null: used only while Redis reads are not failing. */
  public ListThreadsResponse kept(String userId, int pageSize, String pageToken) {
    return redisValues.copiesUsable() && nearCache.view(keys.userThreads(userId), field(pageSize, pageToken))
        instanceof ListThreadsResponse copy ? copy : null;
  }

  /**
   * The page as cached in Redis (empty when it is not, or Redis cannot be asked), read where Redis
   * tracks the hash so that the near cache can keep it until the hash changes.
   */
  public CompletableFuture<Optional<ListThreadsResponse>> read(String userId, int pageSize, String pageToken) {
    String cacheKey = keys.userThreads(userId);
    String field = field(pageSize, pageToken);
    NearCache.TrackedRead read = nearCache.track(cacheKey);
    return breakers.redisRead().call(() -> read.commands().hget(cacheKey, field))
        .handle((bytes, e) -> {
          Optional<ListThreadsResponse> found = bytes == null ? Optional.empty() : parse(bytes);
          found.ifPresent(page -> nearCache.keepView(read, field, page, bytes.length));
          return found;
        });
  }

  /** Caches a page read from PostgreSQL; best effort, nobody waits for it. */
  public void store(String userId, int pageSize, String pageToken, ListThreadsResponse page) {
    String cacheKey = keys.userThreads(userId);
    try {
      var cmd = redis.async();
      cmd.hset(cacheKey, field(pageSize, pageToken), page.toByteArray());
      cmd.pexpire(cacheKey, TTL.toMillis());
    } catch (RuntimeException ex) {
      log.debug("thread list not cached: {}", ex.toString());
    }
  }

  /** Drops every cached page of these users, in one command. */
  public static CompletionStage<Long> forget(RedisAsyncCommands<String, byte[]> cmd, RedisKeys keys,
      Collection<String> userIds) {
    Set<String> cacheKeys = new LinkedHashSet<>();
    userIds.forEach(u -> cacheKeys.add(keys.userThreads(u)));
    return cmd.del(cacheKeys.toArray(new String[0]));
  }

  private static String field(int pageSize, String pageToken) {
    return pageSize + "|" + pageToken;
  }

  private static Optional<ListThreadsResponse> parse(byte[] bytes) {
    try {
      return Optional.of(ListThreadsResponse.parseFrom(bytes));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }
}
