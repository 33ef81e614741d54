package io.messagestore.server.persistence;

import io.lettuce.core.Limit;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The dead-letter stream: entries a persister could not commit after the configured number of
 * deliveries, each with its original stream, payload and last error, so an operator can see why
 * and replay them once the cause is fixed.
 */
public final class DeadLetters {
  static final String F_STREAM = "stream";
  static final String F_ENTRY = "entry";
  static final String F_PAYLOAD = "m";
  static final String F_ERROR = "error";
  static final String F_DELIVERIES = "deliveries";
  static final String F_THREAD = "thread";
  static final String F_MESSAGE = "message";
  /** The entry's idempotency key, kept so that a replay records it in PostgreSQL too. */
  static final String F_IDEMPOTENCY_KEY = StreamPersister.F_IDEMPOTENCY_KEY;

  private static final Pattern ENTRY_ID = Pattern.compile("[0-9]{1,20}(-[0-9]{1,20})?");

  private final RedisTier redis;
  private final RedisKeys keys;
  private final Counter deadLettered;
  private final Counter replayed;

  public DeadLetters(RedisTier redis, RedisKeys keys, MeterRegistry meters) {
    this.redis = redis;
    this.keys = keys;
    this.deadLettered = Counter.builder("messagestore.deadletters.added").register(meters);
    this.replayed = Counter.builder("messagestore.deadletters.replayed").register(meters);
  }

  /** One dead-lettered entry as stored. */
  public record Entry(String id, String stream, String threadId, String messageId, String lastError,
      long deliveries, byte[] payload, byte[] idempotencyKey) {}

  void add(String stream, String entryId, byte[] payload, String threadId, String messageId, String error,
      long deliveries, String idempotencyKey) throws Exception {
    Map<String, byte[]> body = new LinkedHashMap<>();
    body.put(F_STREAM, utf8(stream));
    body.put(F_ENTRY, utf8(entryId));
    body.put(F_PAYLOAD, payload);
    body.put(F_THREAD, utf8(threadId));
    body.put(F_MESSAGE, utf8(messageId));
    body.put(F_ERROR, utf8(error.length() > 2000 ? error.substring(0, 2000) : error));
    body.put(F_DELIVERIES, utf8(Long.toString(deliveries)));
    if (idempotencyKey != null) {
      body.put(F_IDEMPOTENCY_KEY, utf8(idempotencyKey));
    }
    redis.async().xadd(keys.deadLetters(), body).get(5, TimeUnit.SECONDS);
    deadLettered.increment();
  }

  /** Entries after {@code afterId} (exclusive; null = from the start), oldest first. */
  public List<Entry> list(String afterId, int limit) throws Exception {
    Range<String> range = afterId == null
        ? Range.create("-", "+")
        : Range.from(Range.Boundary.excluding(afterId), Range.Boundary.unbounded());
    List<StreamMessage<String, byte[]>> raw =
        redis.async().xrange(keys.deadLetters(), range, Limit.from(limit)).get(5, TimeUnit.SECONDS);
    List<Entry> out = new ArrayList<>(raw.size());
    for (StreamMessage<String, byte[]> m : raw) {
      Map<String, byte[]> b = m.getBody();
      out.add(new Entry(m.getId(), text(b, F_STREAM), text(b, F_THREAD), text(b, F_MESSAGE), text(b, F_ERROR),
          Long.parseLong(text(b, F_DELIVERIES).isEmpty() ? "0" : text(b, F_DELIVERIES)), b.get(F_PAYLOAD),
          b.get(F_IDEMPOTENCY_KEY)));
    }
    return out;
  }

  public long count() throws Exception {
    return redis.async().xlen(keys.deadLetters()).get(5, TimeUnit.SECONDS);
  }

  /**
   * Puts entries back on their shard stream as new entries (a fresh delivery count) and removes
   * them from the dead-letter stream. Empty {@code ids} replays everything.
   *
   * @throws StoreError.Invalid when an id is not a stream entry id (nothing is replayed then)
   */
  public long replay(List<String> ids, Duration timeout) throws Exception {
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    long done = 0;
    List<Entry> entries;
    if (ids.isEmpty()) {
      entries = list(null, 100_000);
    } else {
      for (int i = 0; i < ids.size(); i++) {
        checkEntryId(ids.get(i), "entry_ids[" + i + "]");
      }
      entries = new ArrayList<>();
      for (String id : ids) {
        List<StreamMessage<String, byte[]>> one;
        try {
          one = cmd.xrange(keys.deadLetters(), Range.create(id, id)).get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RedisCommandExecutionException refused) {
            // Redis refused the id the caller gave (e.g. a part beyond 64 bits): the caller's fault.
            throw new StoreError.Invalid("entry id '" + id + "' is not a stream entry id: " + refused.getMessage());
          }
          throw e;
        }
        if (!one.isEmpty()) {
          Map<String, byte[]> b = one.get(0).getBody();
          entries.add(new Entry(id, text(b, F_STREAM), "", "", "", 0, b.get(F_PAYLOAD), b.get(F_IDEMPOTENCY_KEY)));
        }
      }
    }
    for (Entry e : entries) {
      Map<String, byte[]> fields = e.idempotencyKey() == null ? Map.of(F_PAYLOAD, e.payload())
          : Map.of(F_PAYLOAD, e.payload(), F_IDEMPOTENCY_KEY, e.idempotencyKey());
      cmd.xadd(e.stream(), fields).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      cmd.xdel(keys.deadLetters(), e.id()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      replayed.increment();
      done++;
    }
    return done;
  }

  /**
   * An entry id as ListDeadLetters gives them ({@code <ms>-<seq>}, or {@code <ms>} alone, as Redis
   * accepts it): anything else would be refused by Redis, or read as a range.
   */
  private static void checkEntryId(String id, String field) {
    if (!ENTRY_ID.matcher(id).matches()) {
      throw new StoreError.Invalid(field + " must be a dead-letter entry id such as 1700000000000-0, got '"
          + (id.length() > 64 ? id.substring(0, 64) + "..." : id) + "'");
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(Map<String, byte[]> body, String field) {
    byte[] v = body.get(field);
    return v == null ? "" : new String(v, StandardCharsets.UTF_8);
  }
}
