package io.messagestore.server.persistence;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.Message;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisScript;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Lets persisted messages leave the recent indexes ({@code redis/trim-recent.lua}): only after
 * a commit is it known that trimming loses nothing, and only up to the newest id committed.
 */
final class RecentIndexTrim {
  private static final RedisScript SCRIPT = RedisScript.load("/redis/trim-recent.lua");

  private final RedisKeys keys;
  private final byte[] window;

  RecentIndexTrim(RedisKeys keys, int window) {
    this.keys = keys;
    this.window = Integer.toString(window).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Trims the indexes of the threads in a committed batch, in one script: a batch is one shard,
   * so all its threads' indexes share a hash tag.
   */
  CompletionStage<List<Object>> afterCommit(RedisAsyncCommands<String, byte[]> cmd, List<Message> committed) {
    // The newest id committed per thread bounds what may go: entries are mostly in id order in
    // the stream, and racing senders that are not are a known limit (docs/ARCHITECTURE.md).
    Map<String, String> newest = new LinkedHashMap<>();
    for (Message m : committed) {
      newest.merge(keys.recent(m.getThreadId()), m.getMessageId(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
    }
    String[] indexes = newest.keySet().toArray(new String[0]);
    byte[][] args = new byte[1 + indexes.length][];
    args[0] = window;
    for (int i = 0; i < indexes.length; i++) {
      args[1 + i] = newest.get(indexes[i]).getBytes(StandardCharsets.US_ASCII);
    }
    return SCRIPT.run(cmd, indexes, args);
  }
}
