package io.messagestore.server.persistence;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.Message;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisScript;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * What a shard's committed entries leave to do in Redis ({@code redis/acknowledge.lua}): XACK and
 * XDEL them, and let persisted messages leave the recent indexes of their threads
 * ({@link RecentIndex}'s trim rule). Only after a commit is it known that trimming loses nothing,
 * and only up to the newest id committed.
 *
 * <p>Not thread-safe: one per shard, used by the persister's thread.
 */
final class Acknowledgement {
  private static final RedisScript SCRIPT = RedisScript.load("/redis/acknowledge.lua", RecentIndex.TRIM_LUA);
  private static final byte[] GROUP = StreamPersister.GROUP.getBytes(StandardCharsets.US_ASCII);

  private final byte[] window;
  private final RecentIndex.Trims trims;

  Acknowledgement(RedisKeys keys, int window) {
    this.window = Integer.toString(window).getBytes(StandardCharsets.US_ASCII);
    this.trims = new RecentIndex.Trims(keys);
  }

  /** Remembers which indexes the commit of {@code committed} lets the next acknowledgement trim. */
  void committed(List<Message> committed) {
    trims.committed(committed);
  }

  /**
   * Acknowledges and deletes {@code entryIds} of {@code stream} and trims the indexes remembered
   * since the last call, in one script. The trims are forgotten once sent: a lost one only
   * leaves an index longer until that thread's next commit.
   */
  CompletionStage<List<Object>> send(RedisAsyncCommands<String, byte[]> cmd, String stream,
      Collection<String> entryIds) {
    Map<String, String> newest = trims.take();
    String[] scriptKeys = new String[1 + newest.size()];
    byte[][] args = new byte[3 + entryIds.size() + newest.size()][];
    scriptKeys[0] = stream;
    args[0] = GROUP;
    args[1] = window;
    args[2] = Integer.toString(entryIds.size()).getBytes(StandardCharsets.US_ASCII);
    int a = 3;
    for (String id : entryIds) {
      args[a++] = id.getBytes(StandardCharsets.US_ASCII);
    }
    int k = 1;
    for (Map.Entry<String, String> e : newest.entrySet()) {
      scriptKeys[k++] = e.getKey();
      args[a++] = e.getValue().getBytes(StandardCharsets.US_ASCII);
    }
    return SCRIPT.run(cmd, scriptKeys, args);
  }
}
