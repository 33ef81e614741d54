package io.messagestore.server.redis;

import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.resilience.TierBreakers;
import java.util.concurrent.CompletableFuture;

/**
 * Values of Redis string keys as the request path reads them: the near cache's copies where it
 * has them, the rest in one MGET through it (which copies what it finds), under the
 * {@code redis-read} breaker.
 *
 * <p>Copies answer only while that breaker is closed ({@link #copiesUsable}), so that a caller is
 * never told Redis served it while Redis is failing. A read answered from copies alone is no
 * call to Redis and is not recorded by the breaker.
 */
public final class RedisValues {
  private final NearCache nearCache;
  private final TierBreaker redisRead;

  public RedisValues(NearCache nearCache, TierBreakers breakers) {
    this.nearCache = nearCache;
    this.redisRead = breakers.redisRead();
  }

  /** What Redis holds under {@code keys}, null where nothing. */
  public CompletableFuture<byte[][]> get(String... keys) {
    byte[][] values = new byte[keys.length][];
    int missing = keys.length;
    if (copiesUsable()) {
      for (int i = 0; i < keys.length; i++) {
        values[i] = nearCache.get(keys[i]);
        if (values[i] != null) {
          missing--;
        }
      }
    }
    if (missing == 0) {
      return CompletableFuture.completedFuture(values);
    }
    String[] toRead = new String[missing];
    int[] at = new int[missing];
    for (int i = 0, j = 0; i < keys.length; i++) {
      if (values[i] == null) {
        toRead[j] = keys[i];
        at[j++] = i;
      }
    }
    return redisRead.call(() -> nearCache.mget(toRead))
        .thenApply(found -> {
          for (int j = 0; j < at.length; j++) {
            values[at[j]] = found.get(j).getValueOrElse(null);
          }
          return values;
        });
  }

  /**
   * Whether the near cache's copies (values and views) may answer: only while the
   * {@code redis-read} breaker is closed.
   */
  public boolean copiesUsable() {
    return redisRead.isClosed();
  }
}
