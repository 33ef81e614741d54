package io.messagestore.server.redis;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A thread's recent index ({@code ms:{sN}:t:<thread>:recent}) and its rules, which the Lua scripts
 * beside it ({@code redis/recent/}) and {@code send.lua} follow too.
 *
 * <p>The index is a sorted set of message ids, all with score 0, so its lexical order is the
 * UUIDv7 order of the thread. Its rules:
 * <ul>
 *   <li><b>A contiguous suffix.</b> It holds every message of the thread from its lowest id on:
 *       every send adds its messages ({@code send.lua}), and only the persisters remove any,
 *       oldest first ({@link #TRIM_LUA}). Whatever writes around it (a failover write to
 *       PostgreSQL) must add its messages back before the index is trusted again
 *       ({@link #addAboveLowest}).</li>
 *   <li><b>The window.</b> A trim keeps at least the newest {@code window} ids, and removes only
 *       ids up to the newest one committed to PostgreSQL: an unpersisted message stays listable
 *       however long the index grows meanwhile.</li>
 *   <li><b>The thread-start marker</b> ({@link #THREAD_START}, the empty member). It sorts before
 *       every id, so a trim removes it first, and it expires with the index: while it is there,
 *       the index holds the whole thread. It is set by a thread's first send (when PostgreSQL
 *       has just created the thread), by a cache rebuild of a thread that fits the window
 *       ({@link #markThreadStart}), and by a merged first page that found the whole thread
 *       ({@link #refillWholeThread}).</li>
 *   <li><b>Coverage</b> ({@link Slice#covers}): which pages the index alone can answer.</li>
 * </ul>
 * The archiver and the consistency checker ask this class rather than re-deriving the rules.
 */
public final class RecentIndex {
  /** The member that marks an index as holding its whole thread; sorts before every id. */
  public static final String THREAD_START = "";
  /** The constants the scripts share with this class, as Lua: put before a script's text. */
  public static final String LUA_CONSTANTS = "local THREAD_START = " + luaString(THREAD_START) + "\n";
  /** The trim rule as a Lua function, {@code trim_recent(index, window, newest)}: put before a script's text. */
  public static final String TRIM_LUA = RedisScript.source("/redis/recent/trim.lua");

  private static final byte[] THREAD_START_BYTES = THREAD_START.getBytes(StandardCharsets.US_ASCII);
  private static final RedisScript REFILL_THREAD = RedisScript.load("/redis/recent/refill-thread.lua", LUA_CONSTANTS);
  private static final RedisScript MARK_THREAD_START =
      RedisScript.load("/redis/recent/mark-thread-start.lua", LUA_CONSTANTS);
  private static final RedisScript ADD_ABOVE_LOWEST = RedisScript.load("/redis/recent/repair-recent.lua", LUA_CONSTANTS);

  private final RedisKeys keys;
  private final int window;
  private final byte[] windowArg;
  private final Duration messageTtl;
  private final byte[] messageTtlArg;

  /**
   * @param window the newest ids a trim keeps ({@code MESSAGESTORE_RECENT_WINDOW})
   * @param messageTtl how long message keys and the index live without a send
   */
  public RecentIndex(RedisKeys keys, int window, Duration messageTtl) {
    this.keys = keys;
    this.window = window;
    this.windowArg = ascii(Integer.toString(window));
    this.messageTtl = messageTtl;
    this.messageTtlArg = ascii(Long.toString(messageTtl.toMillis()));
  }

  public int window() {
    return window;
  }

  /**
   * What the index says about a page: the ids beyond the cursor (up to a page) and the index's
   * lowest member (null when there is no index).
   */
  public record Slice(List<String> ids, String lowest) {
    /**
     * The coverage rule: whether the index alone answers this page, given that it is a
     * contiguous suffix of the thread. An ascending page is covered when it starts inside the
     * index (a cursor at or above the lowest id); a descending page when the index fills it.
     * While the index holds the whole thread (the marker is its lowest member), it covers every
     * page. The bodies of the listed ids must still be in Redis too, which the reader checks.
     */
    public boolean covers(String cursor, int limit, boolean newestFirst) {
      if (lowest == null) {
        return false;
      }
      if (holdsWholeThread()) {
        return true;
      }
      return newestFirst ? ids.size() == limit : cursor != null && cursor.compareTo(lowest) >= 0;
    }

    /** Whether the thread-start marker is the lowest member: the index is the whole thread. */
    public boolean holdsWholeThread() {
      return THREAD_START.equals(lowest);
    }
  }

  /**
   * Reads a page's ids beyond {@code cursor} (null: from the newest or oldest end) and the lowest
   * member, pipelined in one round trip. The ranges start above the marker, so it is never
   * listed.
   */
  public CompletionStage<Slice> slice(RedisAsyncCommands<String, byte[]> cmd, String threadId, String cursor,
      int limit, boolean newestFirst) {
    String index = keys.recent(threadId);
    Range.Boundary<byte[]> aboveStart = Range.Boundary.excluding(THREAD_START_BYTES);
    Range<byte[]> range = newestFirst
        ? Range.from(aboveStart, cursor == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(ascii(cursor)))
        : Range.from(cursor == null ? aboveStart : Range.Boundary.excluding(ascii(cursor)), Range.Boundary.unbounded());
    var listed = newestFirst ? cmd.zrevrangebylex(index, range, Limit.create(0, limit))
        : cmd.zrangebylex(index, range, Limit.create(0, limit));
    var lowest = cmd.zrange(index, 0, 0);
    return listed.thenCombine(lowest, (idBytes, low) -> {
      List<String> ids = new ArrayList<>(idBytes.size());
      idBytes.forEach(b -> ids.add(new String(b, StandardCharsets.US_ASCII)));
      return new Slice(ids, low.isEmpty() ? null : new String(low.get(0), StandardCharsets.US_ASCII));
    });
  }

  /**
   * Whether messages read from PostgreSQL (and Redis) are the whole thread: read from one end
   * of the thread (no cursor), fewer than asked for and than the window, and none archived.
   * Such a thread may be marked as held whole by its index.
   */
  public boolean isWholeThread(boolean fromAnEnd, int found, int asked, long archived) {
    return fromAnEnd && found > 0 && found < Math.min(asked, window) && archived == 0;
  }

  /**
   * Puts a whole thread (see {@link #isWholeThread}) back into the index with the marker, and
   * the bodies under their keys, only if the index stays within the window with them: every
   * message sent since the reads is in the index unless a trim removed it again, and a trim
   * leaves a full window, so that check is what makes the claim safe. Nothing is written
   * otherwise, nor when the marker is there already.
   */
  public CompletionStage<List<Object>> refillWholeThread(RedisAsyncCommands<String, byte[]> cmd, String threadId,
      Collection<Message> thread) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    String[] scriptKeys = new String[1 + thread.size()];
    byte[][] args = new byte[2 + 2 * thread.size()][];
    scriptKeys[0] = tk.recent();
    args[0] = messageTtlArg;
    args[1] = windowArg;
    int i = 0;
    for (Message m : thread) {
      scriptKeys[1 + i] = tk.message(m.getMessageId());
      args[2 + 2 * i] = ascii(m.getMessageId());
      args[3 + 2 * i] = m.toByteArray();
      i++;
    }
    return REFILL_THREAD.run(cmd, scriptKeys, args);
  }

  /**
   * Loads a thread's newest messages (newest first, at most a window of them) into their keys and
   * the index, as a cache rebuild does after Redis lost its data: one command each, for the
   * caller to wait on.
   */
  public List<CompletionStage<?>> load(RedisAsyncCommands<String, byte[]> cmd, String threadId,
      List<Message> newest) {
    List<CompletionStage<?>> writes = new ArrayList<>();
    long ttl = messageTtl.toMillis();
    String index = keys.recent(threadId);
    for (Message m : newest) {
      writes.add(cmd.psetex(keys.message(threadId, m.getMessageId()), ttl, m.toByteArray()));
      writes.add(cmd.zadd(index, 0, ascii(m.getMessageId())));
    }
    if (!newest.isEmpty()) {
      writes.add(cmd.pexpire(index, ttl));
    }
    return writes;
  }

  /**
   * Adds the marker if the index's lowest id is {@code firstMessageId}, the thread's first
   * message: the index then holds all of it. Checked in Redis rather than assumed, since sends
   * and trims run meanwhile.
   */
  public CompletionStage<List<Object>> markThreadStart(RedisAsyncCommands<String, byte[]> cmd, String threadId,
      String firstMessageId) {
    return MARK_THREAD_START.run(cmd, new String[] {keys.recent(threadId)}, ascii(firstMessageId));
  }

  /**
   * The index's lowest member: empty when there is no index; {@link Lowest#after} says above
   * which id the index claims to hold every message.
   */
  public CompletionStage<Optional<Lowest>> lowest(RedisAsyncCommands<String, byte[]> cmd, String threadId) {
    return cmd.zrange(keys.recent(threadId), 0, 0).thenApply(low -> low.isEmpty() ? Optional.empty()
        : Optional.of(new Lowest(new String(low.get(0), StandardCharsets.US_ASCII))));
  }

  /** An index's lowest member. */
  public record Lowest(String member) {
    /** The id the index holds everything above, or null when it holds the whole thread. */
    public String after() {
      return THREAD_START.equals(member) ? null : member;
    }
  }

  /**
   * Adds messages written around Redis to the index, with their bodies, but only those above its
   * lowest member (re-read in the script): the index claims nothing below it, and an id added
   * there would leave a hole under it. An absent index is left absent: the next send starts one
   * that holds everything from there on. Completes with how many ids went in.
   */
  public CompletionStage<Long> addAboveLowest(RedisAsyncCommands<String, byte[]> cmd, String threadId,
      List<Message> messages) {
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    String[] scriptKeys = new String[1 + messages.size()];
    byte[][] args = new byte[1 + 2 * messages.size()][];
    scriptKeys[0] = tk.recent();
    args[0] = messageTtlArg;
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      scriptKeys[1 + i] = tk.message(m.getMessageId());
      args[1 + 2 * i] = ascii(m.getMessageId());
      args[2 + 2 * i] = m.toByteArray();
    }
    return ADD_ABOVE_LOWEST.run(cmd, scriptKeys, args)
        .thenApply(reply -> reply.isEmpty() ? 0L : ((Number) reply.get(0)).longValue());
  }

  /**
   * The trims a shard's commits allow, gathered until the script that runs them ({@link #TRIM_LUA},
   * after the acknowledgement): per index, the newest id committed. Entries are mostly in id
   * order in the stream; racing senders that are not are a known limit (docs/ARCHITECTURE.md).
   *
   * <p>Not thread-safe: one per shard, used by the persister's thread.
   */
  public static final class Trims {
    private final RedisKeys keys;
    /** Recent index -> newest id committed in it since the trims were last taken. */
    private Map<String, String> newest = new LinkedHashMap<>();

    public Trims(RedisKeys keys) {
      this.keys = keys;
    }

    /** {@code committed} are in PostgreSQL now: their indexes may lose ids up to them. */
    public void committed(List<Message> committed) {
      for (Message m : committed) {
        newest.merge(keys.recent(m.getThreadId()), m.getMessageId(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
      }
    }

    /**
     * The trims gathered (index key -> newest id committed), forgotten here: a trim lost on its
     * way only leaves an index longer until that thread's next commit.
     */
    public Map<String, String> take() {
      Map<String, String> taken = newest;
      newest = new LinkedHashMap<>();
      return taken;
    }
  }

  private static String luaString(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
