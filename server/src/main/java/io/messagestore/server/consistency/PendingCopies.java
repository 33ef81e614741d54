package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.persistence.DeadLetters;
import io.messagestore.server.redis.MessageCopies;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The persistence streams' and the dead-letter stream's entries of the messages in scope, read
 * once before anything else: a message acknowledged before the check began is then in this
 * snapshot, or already committed to PostgreSQL when the check reads it there (an entry leaves the
 * stream only after its commit). A stream holds only its backlog, so this stays small unless
 * PostgreSQL has been away; past {@link #MAX_ENTRIES} the check is refused rather than run blind.
 */
final class PendingCopies {
  static final int MAX_ENTRIES = 200_000;

  /** One message's entries, and whether the check has judged it yet. */
  static final class Pending {
    final String threadId;
    final List<Copy> copies = new ArrayList<>(1);
    boolean judged;

    Pending(String threadId) {
      this.threadId = threadId;
    }
  }

  private final Map<String, Pending> byMessage = new HashMap<>();

  /**
   * Reads the entries of {@code shards} (every shard when null) and the dead letters, keeping
   * those of messages {@code inScope} accepts (thread id, message id).
   */
  static PendingCopies read(MessageCopies redis, DeadLetters deadLetters, int[] shards,
      BiPredicate<String, String> inScope) throws Exception {
    PendingCopies p = new PendingCopies();
    for (int shard : shards) {
      String after = "-";
      while (true) {
        List<MessageCopies.PendingEntry> page = redis.pending(shard, after);
        for (MessageCopies.PendingEntry e : page) {
          if (e.payload() == null) {
            continue;
          }
          Message m;
          try {
            m = Message.parseFrom(e.payload());
          } catch (com.google.protobuf.InvalidProtocolBufferException unreadable) {
            continue; // the persisters dead-letter it; it names no message to compare
          }
          if (inScope.test(m.getThreadId(), m.getMessageId())) {
            p.add(m.getThreadId(), m.getMessageId(), Copy.of(CopyTier.STREAM, m));
          }
        }
        if (page.size() < MessageCopies.STREAM_PAGE) {
          break;
        }
        after = page.get(page.size() - 1).entryId();
      }
    }
    String after = null;
    while (true) {
      List<DeadLetters.Entry> page = deadLetters.list(after, MessageCopies.STREAM_PAGE);
      for (DeadLetters.Entry e : page) {
        if (inScope.test(e.threadId(), e.messageId()) && e.payload() != null) {
          p.add(e.threadId(), e.messageId(), Copy.parse(CopyTier.DEAD_LETTERS, e.payload(), e.threadId(), e.messageId()));
        }
      }
      if (page.size() < MessageCopies.STREAM_PAGE) {
        break;
      }
      after = page.get(page.size() - 1).id();
    }
    return p;
  }

  private void add(String threadId, String messageId, Copy copy) {
    Pending pending = byMessage.computeIfAbsent(messageId, id -> new Pending(threadId));
    pending.copies.add(copy);
    if (byMessage.size() > MAX_ENTRIES) {
      throw new StoreError.Exhausted("more than " + MAX_ENTRIES + " messages of the scope wait in the persistence "
          + "streams (PostgreSQL is behind): check again once the backlog has drained, or narrow the scope");
    }
  }

  /** The entries of a message (marking it judged); empty when it has none. */
  List<Copy> take(String messageId) {
    Pending p = byMessage.get(messageId);
    if (p == null) {
      return List.of();
    }
    p.judged = true;
    return p.copies;
  }

  boolean has(String messageId) {
    return byMessage.containsKey(messageId);
  }

  /** Messages with entries that nothing has judged yet, by message id. */
  Map<String, Pending> unjudged() {
    Map<String, Pending> out = new HashMap<>();
    byMessage.forEach((id, p) -> {
      if (!p.judged) {
        out.put(id, p);
      }
    });
    return out;
  }
}
