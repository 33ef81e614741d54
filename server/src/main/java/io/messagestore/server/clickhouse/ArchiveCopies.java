package io.messagestore.server.clickhouse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What the consistency checker reads from the archive: every row of a message (without FINAL, so
 * that two rows of one message show as two), with the fingerprint ClickHouse computes from the
 * stored row ({@link ClickHouseArchive#fingerprint}), never the content itself.
 */
public final class ArchiveCopies {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MAX_QUERY_SIZE = "16777216";
  private static final String COLUMNS = "toString(message_id) AS id, thread_id, user_id, "
      + ClickHouseArchive.FINGERPRINT + " AS fp, toUnixTimestamp(archived_at) AS archived";

  /** One archive row of a message. */
  public record ArchivedRow(String messageId, String threadId, String userId, String fingerprint,
      Instant archivedAt) {}

  private final ClickHouseTier tier;

  public ArchiveCopies(ClickHouseTier tier) {
    this.tier = tier;
  }

  /**
   * Up to about {@code limit} rows with ids strictly between the bounds, in id order, of one thread
   * or (null) of all; every row of the last id of a full page is included, so that a page never
   * splits the rows of one message. {@code createdFrom} and {@code createdTo} (both or neither)
   * only narrow the partitions read.
   */
  public List<ArchivedRow> page(String threadId, String afterId, String beforeId, Instant createdFrom,
      Instant createdTo, int limit) throws IOException, InterruptedException {
    StringBuilder where = new StringBuilder();
    if (threadId != null) {
      where.append("thread_id = ").append(ClickHouseMessageStore.quote(threadId)).append(" AND ");
    }
    where.append("toString(message_id) > ").append(ClickHouseMessageStore.quote(afterId))
        .append(" AND toString(message_id) < ").append(ClickHouseMessageStore.quote(beforeId));
    if (createdFrom != null) {
      where.append(" AND created_at >= toDateTime(").append(Math.max(0, createdFrom.getEpochSecond() - 1))
          .append(", 'UTC') AND created_at <= toDateTime(").append(createdTo.getEpochSecond() + 1).append(", 'UTC')");
    }
    List<ArchivedRow> rows = query(where + " ORDER BY id LIMIT " + limit);
    if (rows.size() == limit) {
      // The rows of the last id may go on past the limit: read them all.
      String last = rows.get(rows.size() - 1).messageId();
      rows.removeIf(r -> r.messageId().equals(last));
      rows.addAll(query((threadId == null ? "" : "thread_id = " + ClickHouseMessageStore.quote(threadId) + " AND ")
          + "message_id = toUUID(" + ClickHouseMessageStore.quote(last) + ")"));
    }
    return rows;
  }

  /** Every row of the given messages of one thread. */
  public List<ArchivedRow> of(String threadId, Collection<String> messageIds) throws IOException, InterruptedException {
    if (messageIds.isEmpty()) {
      return List.of();
    }
    StringBuilder ids = new StringBuilder();
    for (String id : messageIds) {
      ids.append(ids.length() == 0 ? "" : ",").append("'").append(UUID.fromString(id)).append("'");
    }
    return query("thread_id = " + ClickHouseMessageStore.quote(threadId) + " AND toString(message_id) IN (" + ids
        + ") ORDER BY id");
  }

  /** How many distinct messages of the thread the archive holds. */
  public long count(String threadId) throws IOException, InterruptedException {
    String out = tier.execute("SELECT uniqExact(message_id) FROM " + tier.database() + ".messages_archive WHERE thread_id = "
        + ClickHouseMessageStore.quote(threadId) + " FORMAT TabSeparated");
    return Long.parseLong(out.strip());
  }

  private List<ArchivedRow> query(String whereAndOrder) throws IOException, InterruptedException {
    String sql = "SELECT " + COLUMNS + " FROM " + tier.database() + ".messages_archive WHERE " + whereAndOrder
        + " FORMAT JSONEachRow";
    List<ArchivedRow> out = new ArrayList<>();
    for (String line : tier.execute(sql, Map.of("max_query_size", MAX_QUERY_SIZE)).split("\n")) {
      if (!line.isBlank()) {
        JsonNode row = JSON.readTree(line);
        out.add(new ArchivedRow(row.get("id").asText(), row.get("thread_id").asText(), row.get("user_id").asText(),
            row.get("fp").asText(), Instant.ofEpochSecond(row.get("archived").asLong())));
      }
    }
    return out;
  }
}
