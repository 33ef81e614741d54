package io.messagestore.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.Message;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.testing.LocalTiers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the persister leaves in Redis after a commit (acknowledge.lua), against a real Redis. */
class AcknowledgementTest {
  static RedisClient client;
  static StatefulRedisConnection<String, byte[]> redis;
  final RedisKeys keys = new RedisKeys(4);

  @BeforeAll
  static void connect() {
    client = RedisClient.create(LocalTiers.shared().get("MESSAGESTORE_REDIS_URI"));
    redis = client.connect(RedisTier.CODEC);
  }

  @AfterAll
  static void close() {
    redis.close();
    client.shutdown();
  }

  @Test
  void unpersistedMessagesBeyondTheWindowStayInTheIndex() throws Exception {
    String thread = "trim-" + UUID.randomUUID();
    List<String> ids = index(thread, 20);

    // The persister committed the oldest 5 while 15 newer ones still wait; window 3.
    trim(3, thread, ids.subList(0, 5));

    assertThat(indexed(thread)).containsExactlyElementsOf(ids.subList(5, 20));
  }

  @Test
  void persistedMessagesLeaveDownToTheWindow() throws Exception {
    String thread = "trim-" + UUID.randomUUID();
    List<String> ids = index(thread, 20);

    trim(3, thread, ids);

    assertThat(indexed(thread)).containsExactlyElementsOf(ids.subList(17, 20));
  }

  @Test
  void anIndexWithinTheWindowIsLeftAlone() throws Exception {
    String thread = "trim-" + UUID.randomUUID();
    List<String> ids = index(thread, 3);

    trim(5, thread, ids);

    assertThat(indexed(thread)).containsExactlyElementsOf(ids);
  }

  @Test
  void acknowledgedEntriesLeaveTheStreamAndThePendingList() throws Exception {
    String stream = "ms:{ack-" + UUID.randomUUID() + "}:stream";
    redis.sync().xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), StreamPersister.GROUP,
        XGroupCreateArgs.Builder.mkstream());
    List<String> entries = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      entries.add(redis.sync().xadd(stream, Map.of("m", new byte[] {(byte) i})));
    }
    redis.sync().xreadgroup(Consumer.from(StreamPersister.GROUP, "c"), XReadArgs.Builder.count(2000),
        XReadArgs.StreamOffset.lastConsumed(stream));

    // more ids than one slice of the script's XACK/XDEL; the last one stays
    new Acknowledgement(keys, 3).send(redis.async(), stream, entries.subList(0, 1499))
        .toCompletableFuture().get(5, TimeUnit.SECONDS);

    assertThat(redis.sync().xlen(stream)).isEqualTo(1);
    assertThat(redis.sync().xpending(stream, StreamPersister.GROUP).getCount()).isEqualTo(1);
    redis.sync().del(stream);
  }

  /** What the persister does after committing {@code committed} of the thread. */
  private void trim(int window, String thread, List<String> committed) throws Exception {
    Acknowledgement ack = new Acknowledgement(keys, window);
    ack.committed(messages(thread, committed));
    String stream = keys.of(thread).stream();
    ack.send(redis.async(), stream, List.of()).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  private List<String> index(String thread, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // Lexical order = creation order, as with UUIDv7.
      String id = String.format("01a2%04x-0000-7000-8000-000000000000", i);
      ids.add(id);
      redis.sync().zadd(keys.recent(thread), 0, id.getBytes(StandardCharsets.US_ASCII));
    }
    redis.sync().pexpire(keys.recent(thread), 60_000);
    return ids;
  }

  private List<String> indexed(String thread) {
    return redis.sync().zrange(keys.recent(thread), 0, -1).stream()
        .map(b -> new String(b, StandardCharsets.US_ASCII)).toList();
  }

  private static List<Message> messages(String thread, List<String> ids) {
    return ids.stream().map(id -> Message.newBuilder().setThreadId(thread).setMessageId(id).build()).toList();
  }
}
