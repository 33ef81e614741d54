package io.messagestore.server.clickhouse;

import com.clickhouse.data.ClickHouseFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.messagestore.api.v1.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes messages into the archive ({@code messages_archive}) and reads back what it holds of
 * them, so that the archiver deletes a batch from PostgreSQL only after ClickHouse has every
 * row of it with the same bytes.
 *
 * <p>A row's fingerprint is the MD5 of its thread, user, role, content and metadata joined by
 * line breaks, computed here from the message and by ClickHouse from the stored row
 * ({@code hex(MD5(concat(...)))}, which 18.x and current servers both have); equal
 * fingerprints mean equal stored bytes, not merely equal counts.
 */
public final class ClickHouseArchive {
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  static final DateTimeFormatter DATE_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
  /** Verification queries list every id of a batch; the server's default limit is 256 KiB. */
  private static final String MAX_QUERY_SIZE = "16777216";

  /** {@link #fingerprint} as ClickHouse computes it from a stored row. */
  static final String FINGERPRINT =
      "hex(MD5(concat(thread_id, '\\n', user_id, '\\n', toString(role), '\\n', content, '\\n', metadata)))";

  private final ClickHouseTier tier;

  public ClickHouseArchive(ClickHouseTier tier) {
    this.tier = tier;
  }

  /** Copies the messages into the archive in one INSERT. */
  public void copy(Collection<Message> messages, Instant archivedAt) throws IOException, InterruptedException {
    ByteArrayOutputStream rows = new ByteArrayOutputStream(messages.size() * 256);
    String archived = DATE_TIME.format(archivedAt);
    for (Message m : messages) {
      ObjectNode row = JSON.createObjectNode()
          .put("message_id", m.getMessageId())
          .put("thread_id", m.getThreadId())
          .put("user_id", m.getUserId())
          .put("role", m.getRoleValue())
          .put("content", m.getContent())
          .put("metadata", metadataJson(m))
          .put("created_at", DATE_TIME.format(createdAt(m)))
          .put("archived_at", archived);
      rows.write(JSON.writeValueAsBytes(row));
      rows.write('\n');
    }
    tier.insert("messages_archive", rows.toByteArray(), ClickHouseFormat.JSONEachRow);
  }

  /**
   * The fingerprints of the given messages as the archive holds them, by message id; a message
   * the archive does not hold is absent. Read without FINAL, which costs ten times as much on a
   * table with many parts: a message copied twice is two identical rows until ClickHouse merges
   * them, and both give the same fingerprint.
   */
  public Map<String, String> storedFingerprints(Collection<Message> messages) throws IOException, InterruptedException {
    if (messages.isEmpty()) {
      return Map.of();
    }
    StringBuilder threads = new StringBuilder();
    StringBuilder ids = new StringBuilder();
    messages.stream().map(Message::getThreadId).distinct().forEach(t ->
        threads.append(threads.length() == 0 ? "" : ",").append(ClickHouseMessageStore.quote(t)));
    for (Message m : messages) {
      ids.append(ids.length() == 0 ? "" : ",").append("'").append(UUID.fromString(m.getMessageId())).append("'");
    }
    String sql = "SELECT toString(message_id) AS id, " + FINGERPRINT + " AS fingerprint FROM " + tier.database()
        + ".messages_archive "
        + "WHERE thread_id IN (" + threads + ") AND toString(message_id) IN (" + ids + ") FORMAT JSONEachRow";
    Map<String, String> stored = new LinkedHashMap<>();
    for (String line : tier.execute(sql, Map.of("max_query_size", MAX_QUERY_SIZE)).split("\n")) {
      if (!line.isBlank()) {
        JsonNode row = JSON.readTree(line);
        stored.put(row.get("id").asText(), row.get("fingerprint").asText());
      }
    }
    return stored;
  }

  /** What {@link #storedFingerprints} gives for a row holding exactly this message. */
  public static String fingerprint(Message m) {
    String joined = m.getThreadId() + "\n" + m.getUserId() + "\n" + m.getRoleValue() + "\n" + m.getContent() + "\n"
        + metadataJson(m);
    try {
      byte[] md5 = MessageDigest.getInstance("MD5").digest(joined.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().withUpperCase().formatHex(md5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has MD5", e);
    }
  }

  /** Metadata as the archive stores it: a JSON object with keys in order, {@code {}} when empty. */
  static String metadataJson(Message m) {
    try {
      return JSON.writeValueAsString(new TreeMap<>(m.getMetadataMap()));
    } catch (IOException e) {
      throw new IllegalStateException("a map of strings always serialises", e);
    }
  }

  static Instant createdAt(Message m) {
    return Instant.ofEpochSecond(m.getCreatedAt().getSeconds(), m.getCreatedAt().getNanos());
  }
}
