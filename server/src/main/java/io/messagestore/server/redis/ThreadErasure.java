package io.messagestore.server.redis;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.Limit;
import io.lettuce.core.SetArgs;
import io.messagestore.api.v1.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Redis side of erasing a thread (DeleteThread): fencing off its sends, finding what Redis
 * holds of it (recent index, message copies, stream entries not yet persisted, dead letters), and
 * removing it. Blocking; runs on a connection of its own, off the event loops.
 *
 * <p>The fence is the owner key set to {@link #ERASING}, a value no caller's user id can take
 * (it starts with a NUL): {@code send.lua} then answers every send to the thread with that
 * "owner", which the write path reports as a thread being deleted, and nothing new reaches the
 * thread's keys or stream while it is erased. The fence expires by itself, so an eraser that
 * dies leaves the thread writable again (a repeated DeleteThread finishes the job).
 * Idempotency keys are left to expire: a retry of an erased send is then answered as a
 * duplicate and stores nothing, instead of storing its content again.
 */
public final class ThreadErasure {
  /** The owner value of a thread being erased. */
  public static final String ERASING = "\0erasing";
  /** Stream entries read per XRANGE while looking for a thread's unpersisted entries. */
  private static final int SCAN_CHUNK = 1000;

  private final RedisKeys keys;

  public ThreadErasure(RedisKeys keys) {
    this.keys = keys;
  }

  /** What Redis holds of a thread. */
  public record Found(Set<String> messageIds, List<String> streamEntries, List<String> deadLetterEntries) {}

  /** The thread's owner as Redis knows it, if it does. */
  public Optional<String> owner(RedisCommands<String, byte[]> redis, String threadId) {
    byte[] owner = redis.get(keys.owner(threadId));
    return owner == null ? Optional.empty() : Optional.of(new String(owner, StandardCharsets.UTF_8));
  }

  /** Fences the thread's sends off for at most {@code ttl}. */
  public void fence(RedisCommands<String, byte[]> redis, String threadId, Duration ttl) {
    redis.set(keys.owner(threadId), ERASING.getBytes(StandardCharsets.UTF_8), SetArgs.Builder.px(ttl.toMillis()));
  }

  /** Finds the thread's message ids, stream entries and dead letters. */
  public Found find(RedisCommands<String, byte[]> redis, String threadId) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    Set<String> ids = new TreeSet<>();
    for (byte[] id : redis.zrange(tk.recent(), 0, -1)) {
      String text = new String(id, StandardCharsets.US_ASCII);
      if (!text.equals(RecentIndex.THREAD_START)) {
        ids.add(text);
      }
    }
    List<String> streamEntries = new ArrayList<>();
    scan(redis, tk.stream(), (entryId, body) -> {
      Optional<Message> m = parse(body.get("m"));
      if (m.isPresent() && m.get().getThreadId().equals(threadId)) {
        streamEntries.add(entryId);
        ids.add(m.get().getMessageId());
      }
    });
    List<String> deadLetters = new ArrayList<>();
    scan(redis, keys.deadLetters(), (entryId, body) -> {
      byte[] thread = body.get("thread");
      Optional<Message> m = parse(body.get("m"));
      if ((thread != null && new String(thread, StandardCharsets.UTF_8).equals(threadId))
          || (m.isPresent() && m.get().getThreadId().equals(threadId))) {
        deadLetters.add(entryId);
        m.ifPresent(x -> ids.add(x.getMessageId()));
      }
    });
    return new Found(ids, streamEntries, deadLetters);
  }

  /**
   * Removes the thread's message copies, recent index, unpersisted stream entries (acknowledged
   * for the persisters, so none is delivered again) and dead letters.
   */
  public void remove(RedisCommands<String, byte[]> redis, String threadId, Collection<String> messageIds, Found found,
      String persisterGroup) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    List<String> doomed = new ArrayList<>();
    doomed.add(tk.recent());
    messageIds.forEach(id -> doomed.add(tk.message(id)));
    for (int i = 0; i < doomed.size(); i += SCAN_CHUNK) {
      redis.del(doomed.subList(i, Math.min(doomed.size(), i + SCAN_CHUNK)).toArray(String[]::new));
    }
    for (int i = 0; i < found.streamEntries().size(); i += SCAN_CHUNK) {
      String[] chunk = found.streamEntries().subList(i, Math.min(found.streamEntries().size(), i + SCAN_CHUNK))
          .toArray(String[]::new);
      redis.xack(tk.stream(), persisterGroup, chunk);
      redis.xdel(tk.stream(), chunk);
    }
    if (!found.deadLetterEntries().isEmpty()) {
      redis.xdel(keys.deadLetters(), found.deadLetterEntries().toArray(String[]::new));
    }
  }

  /** Lifts the fence: the thread id may be claimed again. */
  public void unfence(RedisCommands<String, byte[]> redis, String threadId) {
    redis.del(keys.owner(threadId));
  }

  private interface EntryVisitor {
    void visit(String entryId, java.util.Map<String, byte[]> body);
  }

  private static void scan(RedisCommands<String, byte[]> redis, String stream, EntryVisitor visitor) {
    Range.Boundary<String> from = Range.Boundary.unbounded();
    while (true) {
      List<StreamMessage<String, byte[]>> chunk = redis.xrange(stream, Range.from(from, Range.Boundary.unbounded()),
          Limit.create(0, SCAN_CHUNK));
      for (StreamMessage<String, byte[]> e : chunk) {
        visitor.visit(e.getId(), e.getBody());
      }
      if (chunk.size() < SCAN_CHUNK) {
        return;
      }
      from = Range.Boundary.excluding(chunk.get(chunk.size() - 1).getId());
    }
  }

  private static Optional<Message> parse(byte[] bytes) {
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Message.parseFrom(bytes));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }
}
