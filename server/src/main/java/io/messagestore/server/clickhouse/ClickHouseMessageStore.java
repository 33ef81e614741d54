package io.messagestore.server.clickhouse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Archived messages in ClickHouse ({@code messages_archive}). Queries name their output format
 * (JSONEachRow) and read with FINAL, so a message copied twice by an interrupted archive run
 * comes back once. Ids are compared as text: ClickHouse orders the UUID type by its internal
 * halves, which is not the time order of UUIDv7's canonical form that every other tier uses.
 */
public final class ClickHouseMessageStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ClickHouseTier tier;

  public ClickHouseMessageStore(ClickHouseTier tier) {
    this.tier = tier;
  }

  public Optional<Message> find(String threadId, String messageId) throws IOException, InterruptedException {
    List<Message> found = query("thread_id = " + quote(threadId) + " AND message_id = toUUID(" + quote(uuid(messageId)) + ")",
        "", 1);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** Messages of a thread strictly between the bounds (either may be null), in id order. */
  public List<Message> page(String threadId, String afterId, String beforeId, int limit, boolean newestFirst)
      throws IOException, InterruptedException {
    StringBuilder where = new StringBuilder("thread_id = ").append(quote(threadId));
    if (afterId != null) {
      where.append(" AND toString(message_id) > ").append(quote(uuid(afterId)));
    }
    if (beforeId != null) {
      where.append(" AND toString(message_id) < ").append(quote(uuid(beforeId)));
    }
    return query(where.toString(), newestFirst ? " ORDER BY id DESC" : " ORDER BY id ASC", limit);
  }

  private List<Message> query(String where, String order, int limit) throws IOException, InterruptedException {
    String sql = "SELECT toString(message_id) AS id, thread_id, user_id, role, content, metadata FROM "
        + tier.database() + ".messages_archive FINAL WHERE " + where + order + " LIMIT " + limit + " FORMAT JSONEachRow";
    String body = tier.execute(sql);
    List<Message> out = new ArrayList<>();
    for (String line : body.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      out.add(toMessage(JSON.readTree(line)));
    }
    return out;
  }

  private static Message toMessage(JsonNode row) throws IOException {
    String id = row.get("id").asText();
    // DateTime holds seconds; the id carries the exact millisecond the gateway accepted it.
    long ms = UUID.fromString(id).getMostSignificantBits() >>> 16;
    Message.Builder b = Message.newBuilder()
        .setMessageId(id)
        .setThreadId(row.get("thread_id").asText())
        .setUserId(row.get("user_id").asText())
        .setRole(Optional.ofNullable(Role.forNumber(row.get("role").asInt())).orElse(Role.ROLE_UNSPECIFIED))
        .setContent(row.get("content").asText())
        .setCreatedAt(Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000));
    String metadata = row.get("metadata").asText();
    if (!metadata.isEmpty()) {
      JsonNode m = JSON.readTree(metadata);
      for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        b.putMetadata(e.getKey(), e.getValue().asText());
      }
    }
    return b.build();
  }

  private static String uuid(String id) {
    return UUID.fromString(id).toString();
  }

  /** A ClickHouse string literal; backslash and quote are the characters that need escaping. */
  static String quote(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
