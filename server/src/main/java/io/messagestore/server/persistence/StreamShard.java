package io.messagestore.server.persistence;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.Message;
import io.messagestore.server.pump.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's persistence stream as {@link ShardStreams} reads it: its connection, where its
 * reading stands, and what is committed but not acknowledged yet. Used by the persister's
 * thread only.
 */
final class StreamShard {
  private static final Logger log = LoggerFactory.getLogger(StreamShard.class);

  final int index;
  final String stream;
  StatefulRedisConnection<String, byte[]> connection;
  boolean groupReady;
  /** After an error a read reply may have been lost: its entries are pending under this consumer. */
  boolean rereadOwnPending;
  String ownPendingCursor = "0";
  private final Turns claims = new Turns();
  private final Turns forgetting = new Turns();
  /** The blocking read an idle round left out, until the round that collects it. */
  RedisFuture<List<StreamMessage<String, byte[]>>> blocking;
  /** Committed (or dead-lettered) entries whose XACK + XDEL has not been confirmed yet. */
  final Set<String> unacked = new LinkedHashSet<>();
  private final Acknowledgement acknowledgement;
  private final Duration replyWait;
  private List<String> acking;
  private CompletableFuture<List<Object>> acked;

  StreamShard(int index, String stream, Acknowledgement acknowledgement, Duration replyWait) {
    this.index = index;
    this.stream = stream;
    this.acknowledgement = acknowledgement;
    this.replyWait = replyWait;
  }

  /** Whether abandoned entries are to be claimed now; if so, the next claim is due a period later. */
  boolean claimDue(long now, Duration claimTimeout) {
    return claims.due(now, Math.max(100, claimTimeout.toMillis() / 2));
  }

  /** Whether the group's leftover consumers are to be looked at now (at the first read, then every period). */
  boolean forgetDue(long now, long periodMillis) {
    return forgetting.due(now, periodMillis);
  }

  /** A chore done every period on the shard, the first time at once. */
  private static final class Turns {
    private long nextAt;

    boolean due(long now, long periodMillis) {
      if (now < nextAt) {
        return false;
      }
      nextAt = now + periodMillis;
      return true;
    }
  }

  /** From the start of the pending list: what was lost may lie before a scan under way. */
  void rereadOwnPending() {
    rereadOwnPending = true;
    ownPendingCursor = "0";
  }

  void readFailed(Exception e) {
    rereadOwnPending();
    if (ShardStreams.streamLost(e)) {
      groupReady = false;
    }
    log.debug("persister {}: read failed: {}", stream, (e.getCause() == null ? e : e.getCause()).toString());
  }

  /**
   * These entries are in PostgreSQL (or gone, or dead-lettered): the next acknowledgement takes
   * them off the stream and trims the recent indexes of their messages' threads.
   */
  void committed(List<Delivery<StreamEntry>> entries) {
    List<Message> messages = new ArrayList<>(entries.size());
    for (Delivery<StreamEntry> d : entries) {
      unacked.add(d.id());
      if (d.kind() == Delivery.Kind.READABLE) {
        messages.add(d.item().message());
      }
    }
    if (!messages.isEmpty()) {
      acknowledgement.committed(messages);
    }
  }

  /**
   * Sends the acknowledgement of what is unacknowledged (with the trims of the indexes
   * committed since the last one), unless the last one is still out.
   */
  void acknowledge() {
    if (unacked.isEmpty() || acking != null || connection == null) {
      return;
    }
    acking = new ArrayList<>(unacked);
    acked = acknowledgement.send(connection.async(), stream, acking).toCompletableFuture();
  }

  /** Looks at the replies of the last acknowledgement, if they have come. */
  void settleAcknowledgement() {
    if (acking == null || !acked.isDone()) {
      return;
    }
    if (!acked.isCompletedExceptionally()) {
      // Committed but not acknowledged would be safe (the re-insert is skipped), just wasteful;
      // a failed one is sent again with the next.
      acking.forEach(unacked::remove);
    }
    acking = null;
  }

  void awaitAcknowledgement() {
    if (acking == null) {
      return;
    }
    try {
      acked.get(replyWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("persister {}: acknowledgement not confirmed: {}", stream, e.toString());
    }
    settleAcknowledgement();
  }
}
