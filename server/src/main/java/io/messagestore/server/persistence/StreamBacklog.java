package io.messagestore.server.persistence;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Measures the persistence backlog: entries still in the shard streams (persisters delete an
 * entry once its message is committed, so a stream's length is its backlog) and the age of the
 * oldest one, from the time part of its stream id.
 */
public final class StreamBacklog {
  private final RedisTier redis;
  private final RedisKeys keys;
  private final Clock clock;
  private final AtomicLongArray lengths;
  private final AtomicLongArray oldestAgeMs;
  private volatile long deadLetters;

  public StreamBacklog(RedisTier redis, RedisKeys keys, Clock clock, MeterRegistry meters) {
    this.redis = redis;
    this.keys = keys;
    this.clock = clock;
    this.lengths = new AtomicLongArray(keys.shards());
    this.oldestAgeMs = new AtomicLongArray(keys.shards());
    for (int s = 0; s < keys.shards(); s++) {
      final int shard = s;
      Gauge.builder("messagestore.stream.backlog", () -> lengths.get(shard))
          .tag("shard", Integer.toString(shard)).description("persistence stream entries not yet committed")
          .register(meters);
      Gauge.builder("messagestore.stream.oldest.age", () -> oldestAgeMs.get(shard) / 1000.0)
          .tag("shard", Integer.toString(shard)).baseUnit("seconds")
          .description("age of the oldest entry not yet committed").register(meters);
    }
    Gauge.builder("messagestore.deadletters", () -> deadLetters)
        .description("entries in the dead-letter stream").register(meters);
  }

  /** Re-reads lengths and ages from Redis; throws when Redis is unreachable. */
  public void refresh() throws Exception {
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    long now = clock.millis();
    for (int s = 0; s < keys.shards(); s++) {
      String stream = keys.stream(s);
      long len = cmd.xlen(stream).get(1, TimeUnit.SECONDS);
      lengths.set(s, len);
      long age = 0;
      if (len > 0) {
        List<StreamMessage<String, byte[]>> first =
            cmd.xrange(stream, Range.create("-", "+"), io.lettuce.core.Limit.from(1)).get(1, TimeUnit.SECONDS);
        if (!first.isEmpty()) {
          String id = first.get(0).getId();
          age = Math.max(0, now - Long.parseLong(id.substring(0, id.indexOf('-'))));
        }
      }
      oldestAgeMs.set(s, age);
    }
    deadLetters = cmd.xlen(keys.deadLetters()).get(1, TimeUnit.SECONDS);
  }

  public long total() {
    long sum = 0;
    for (int s = 0; s < lengths.length(); s++) {
      sum += lengths.get(s);
    }
    return sum;
  }

  public long oldestAgeMillis() {
    long max = 0;
    for (int s = 0; s < oldestAgeMs.length(); s++) {
      max = Math.max(max, oldestAgeMs.get(s));
    }
    return max;
  }

  public long deadLetters() {
    return deadLetters;
  }
}
