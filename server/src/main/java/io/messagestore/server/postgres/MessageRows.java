package io.messagestore.server.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/** Converts between {@link Message} and rows of the {@code messages} table. */
final class MessageRows {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, String>> MAP = new TypeReference<>() {};

  static final String COLUMNS =
      "message_id, thread_id, user_id, role, content, metadata::text AS metadata, created_at";

  private MessageRows() {}

  static String metadataJson(Message m) {
    try {
      return JSON.writeValueAsString(m.getMetadataMap());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static long createdMillis(Message m) {
    Timestamp t = m.getCreatedAt();
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }

  static Message read(ResultSet rs) throws SQLException {
    java.sql.Timestamp created = rs.getTimestamp("created_at");
    Map<String, String> metadata;
    try {
      metadata = JSON.readValue(rs.getString("metadata"), MAP);
    } catch (JsonProcessingException e) {
      throw new SQLException("metadata of message " + rs.getString("message_id") + " is not a JSON object", e);
    }
    long ms = created.getTime();
    return Message.newBuilder()
        .setMessageId(rs.getString("message_id"))
        .setThreadId(rs.getString("thread_id"))
        .setUserId(rs.getString("user_id"))
        .setRole(Role.forNumber(rs.getShort("role")) == null ? Role.ROLE_UNSPECIFIED : Role.forNumber(rs.getShort("role")))
        .setContent(rs.getString("content"))
        .putAllMetadata(metadata)
        .setCreatedAt(Timestamp.newBuilder().setSeconds(Math.floorDiv(ms, 1000)).setNanos((int) Math.floorMod(ms, 1000) * 1_000_000))
        .build();
  }
}
