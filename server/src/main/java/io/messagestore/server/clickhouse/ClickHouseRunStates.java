package io.messagestore.server.clickhouse;

import com.clickhouse.data.ClickHouseFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.api.v1.RunState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Completed runs in the archive ({@code run_states_archive}, one row per version kept). The
 * {@code state} column holds the whole {@link RunState} protobuf in base64: the JSONEachRow
 * inserts that 18.x servers take carry text, not arbitrary bytes, and the whole record makes a
 * restore from the archive exact (TTL class, completion, update time). ReplacingMergeTree on
 * (run_id, version) makes a repeated copy harmless.
 */
public final class ClickHouseRunStates {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ClickHouseTier tier;

  public ClickHouseRunStates(ClickHouseTier tier) {
    this.tier = tier;
  }

  /** Copies the versions in one INSERT. */
  public void copy(Collection<RunState> versions, Instant archivedAt) throws IOException, InterruptedException {
    ByteArrayOutputStream rows = new ByteArrayOutputStream(versions.size() * 512);
    String archived = ClickHouseArchive.DATE_TIME.format(archivedAt);
    for (RunState s : versions) {
      rows.write(JSON.writeValueAsBytes(JSON.createObjectNode()
          .put("run_id", s.getRunId())
          .put("thread_id", s.getThreadId())
          .put("user_id", s.getUserId())
          .put("version", s.getVersion())
          .put("state", encode(s))
          .put("updated_at", ClickHouseArchive.DATE_TIME.format(
              Instant.ofEpochSecond(s.getUpdatedAt().getSeconds(), s.getUpdatedAt().getNanos())))
          .put("archived_at", archived)));
      rows.write('\n');
    }
    tier.insert("run_states_archive", rows.toByteArray(), ClickHouseFormat.JSONEachRow);
  }

  /** The archived versions of these runs, by {@code run_id/version}, as their encoded state. */
  public Map<String, String> stored(Collection<String> runIds) throws IOException, InterruptedException {
    StringBuilder ids = new StringBuilder();
    runIds.forEach(id -> ids.append(ids.length() == 0 ? "" : ",").append(ClickHouseMessageStore.quote(id)));
    Map<String, String> stored = new HashMap<>();
    for (JsonNode row : rows("SELECT run_id, version, state FROM " + tier.database()
        + ".run_states_archive WHERE run_id IN (" + ids + ") FORMAT JSONEachRow")) {
      stored.put(row.get("run_id").asText() + "/" + row.get("version").asLong(), row.get("state").asText());
    }
    return stored;
  }

  /** The newest archived version of a run. */
  public Optional<RunState> latest(String runId) throws IOException, InterruptedException {
    return one("run_id = " + ClickHouseMessageStore.quote(runId) + " ORDER BY version DESC LIMIT 1");
  }

  /** One archived version of a run. */
  public Optional<RunState> version(String runId, long version) throws IOException, InterruptedException {
    return one("run_id = " + ClickHouseMessageStore.quote(runId) + " AND version = " + version + " LIMIT 1");
  }

  /** What {@link #stored} gives for a version archived as {@code s}. */
  public static String encode(RunState s) {
    return Base64.getEncoder().encodeToString(s.toByteArray());
  }

  private Optional<RunState> one(String where) throws IOException, InterruptedException {
    for (JsonNode row : rows("SELECT state FROM " + tier.database() + ".run_states_archive WHERE " + where
        + " FORMAT JSONEachRow")) {
      return Optional.of(RunState.parseFrom(Base64.getDecoder().decode(row.get("state").asText())));
    }
    return Optional.empty();
  }

  private List<JsonNode> rows(String sql) throws IOException, InterruptedException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : tier.execute(sql).split("\n")) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }
}
