package io.messagestore.server.clickhouse;

import com.clickhouse.data.ClickHouseFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.messagestore.api.v1.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The analytics table ({@code message_facts}): one row per persisted message with what the
 * thread statistics need and no content. Rows come in batches from the analytics feed; a batch
 * sent twice is harmless (ReplacingMergeTree by message, read with FINAL).
 */
public final class MessageFacts {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One message as the analytics table keeps it. */
  public record Fact(String messageId, String threadId, String userId, int role, long contentBytes, long createdMs) {}

  /** The statistics of one thread. */
  public record ThreadStats(long messageCount, Map<String, Long> messagesByRole, long totalContentBytes,
      Optional<Instant> firstMessageAt, Optional<Instant> lastMessageAt) {}

  private final ClickHouseTier tier;

  public MessageFacts(ClickHouseTier tier) {
    this.tier = tier;
  }

  /** Adds the facts in one INSERT. */
  public void add(Collection<Fact> facts) throws IOException, InterruptedException {
    if (facts.isEmpty()) {
      return;
    }
    ByteArrayOutputStream rows = new ByteArrayOutputStream(facts.size() * 160);
    for (Fact f : facts) {
      ObjectNode row = JSON.createObjectNode()
          .put("message_id", f.messageId())
          .put("thread_id", f.threadId())
          .put("user_id", f.userId())
          .put("role", f.role())
          .put("content_bytes", f.contentBytes())
          .put("created_ms", f.createdMs())
          .put("created_at", ClickHouseArchive.DATE_TIME.format(Instant.ofEpochMilli(f.createdMs())));
      rows.write(JSON.writeValueAsBytes(row));
      rows.write('\n');
    }
    tier.insert("message_facts", rows.toByteArray(), ClickHouseFormat.JSONEachRow);
  }

  /** The thread's statistics from the facts ClickHouse holds; zero counts for an unknown thread. */
  public ThreadStats stats(String threadId) throws IOException, InterruptedException {
    // One row per message first (a fact sent twice is two rows until the table merges), then
    // per role: this reads only the thread's rows, where FINAL would merge every part it touches.
    String sql = "SELECT role, count() AS messages, sum(bytes) AS bytes, min(created) AS first, max(created) AS last "
        + "FROM (SELECT any(role) AS role, any(content_bytes) AS bytes, any(created_ms) AS created FROM "
        + tier.database() + ".message_facts WHERE thread_id = " + ClickHouseMessageStore.quote(threadId)
        + " GROUP BY message_id) GROUP BY role FORMAT JSONEachRow";
    long count = 0;
    long bytes = 0;
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    Map<String, Long> byRole = new LinkedHashMap<>();
    for (String line : tier.execute(sql).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      // Old servers quote 64-bit integers in JSON; asLong reads both forms.
      JsonNode row = JSON.readTree(line);
      long messages = row.get("messages").asLong();
      Role role = Role.forNumber(row.get("role").asInt());
      byRole.merge(role == null ? "ROLE_" + row.get("role").asInt() : role.name(), messages, Long::sum);
      count += messages;
      bytes += row.get("bytes").asLong();
      first = Math.min(first, row.get("first").asLong());
      last = Math.max(last, row.get("last").asLong());
    }
    return new ThreadStats(count, byRole, bytes,
        count == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(first)),
        count == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(last)));
  }
}
