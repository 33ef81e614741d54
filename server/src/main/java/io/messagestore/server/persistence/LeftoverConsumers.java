package io.messagestore.server.persistence;

import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.server.redis.RedisScript;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumers that stopped or dead gateway instances leave in the persisters group of every
 * shard stream (each process joins under a name of its own): once one has had no pending entry
 * and no activity for {@code forgetAfter}, it is deleted ({@code redis/forget-consumers.lua}), so
 * that a deployment that restarts its gateways every day does not pile up consumers for ever.
 * Entries still pending under a consumer keep it until another instance has claimed them.
 *
 * <p>Used by the persister's thread only, on a shard's connection when no blocking read is out on
 * it; a failure is logged and tried again at the next turn.
 */
final class LeftoverConsumers {
  private static final Logger log = LoggerFactory.getLogger(LeftoverConsumers.class);
  private static final RedisScript SCRIPT = RedisScript.load("/redis/forget-consumers.lua");
  private static final byte[] GROUP = StreamPersister.GROUP.getBytes(StandardCharsets.US_ASCII);

  private final Duration forgetAfter;
  private final byte[] self;
  private final Duration replyWait;

  /**
   * @param forgetAfter how long a consumer with nothing pending must have been idle to go
   * @param self this instance's consumer, never deleted
   */
  LeftoverConsumers(Duration forgetAfter, String self, Duration replyWait) {
    this.forgetAfter = forgetAfter;
    this.self = self.getBytes(StandardCharsets.UTF_8);
    this.replyWait = replyWait;
  }

  /** How often a shard's group is looked at: every half of {@code forgetAfter}, at least a second apart. */
  long periodMillis() {
    return Math.max(1000, forgetAfter.toMillis() / 2);
  }

  /** Deletes the shard's leftover consumers; returns their names. */
  List<String> forget(StatefulRedisConnection<String, byte[]> connection, String stream) {
    byte[] idle = Long.toString(forgetAfter.toMillis()).getBytes(StandardCharsets.US_ASCII);
    try {
      List<Object> deleted = SCRIPT.run(connection.async(), new String[] {stream}, GROUP, idle, self)
          .toCompletableFuture().get(replyWait.toMillis(), TimeUnit.MILLISECONDS);
      List<String> names = new ArrayList<>(deleted.size());
      for (Object name : deleted) {
        names.add(new String((byte[]) name, StandardCharsets.UTF_8));
      }
      if (!names.isEmpty()) {
        log.info("persister {}: forgot {} consumers idle for over {} with nothing pending: {}", stream, names.size(),
            forgetAfter, names);
      }
      return names;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    } catch (Exception e) {
      log.debug("persister {}: leftover consumers not looked at: {}", stream, e.toString());
      return List.of();
    }
  }
}
