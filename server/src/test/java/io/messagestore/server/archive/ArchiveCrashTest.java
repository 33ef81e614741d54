package io.messagestore.server.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.GatewayProcess;
import io.messagestore.server.testing.HoldingClickHouseProxy;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the gateway that holds the archiver lease at each step of an archive batch: after
 * the copy (its read-back held), and after the read-back (its PostgreSQL delete held). Every
 * message must stay listed exactly once meanwhile, and the next gateway finishes the batch.
 */
class ArchiveCrashTest {
  private PrivateTiers tiers;
  private Map<String, String> settings;
  private ClickHouseTier clickhouse;

  @BeforeEach
  void start() throws Exception {
    tiers = PrivateTiers.start();
    settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_DATABASE", "ms_crash_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10),
        "MESSAGESTORE_HOT_RETENTION", "off"));
    clickhouse = new ClickHouseTier(new ClickHouseSettings(URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")),
        settings.get("MESSAGESTORE_CLICKHOUSE_DATABASE"), Duration.ofSeconds(10)));
  }

  @AfterEach
  void stop() throws Exception {
    tiers.close();
    clickhouse.execute("DROP DATABASE IF EXISTS " + clickhouse.database());
    clickhouse.close();
  }

  /** Settings of a gateway that archives everything older than a second, through {@code clickhouseUrl}. */
  private Map<String, String> archiving(String clickhouseUrl) {
    Map<String, String> s = new HashMap<>(settings);
    s.put("MESSAGESTORE_CLICKHOUSE_URL", clickhouseUrl);
    s.put("MESSAGESTORE_HOT_RETENTION", "PT1S");
    s.put("MESSAGESTORE_ARCHIVE_INTERVAL", "200ms");
    s.put("MESSAGESTORE_ARCHIVE_BATCH", "50");
    return s;
  }

  /** Writes {@code n} durable messages through a gateway that does not archive. */
  private List<String> seed(String thread, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    try (TestGateway writer = TestGateway.startWith(settings)) {
      for (int i = 0; i < n; i++) {
        ids.add(writer.as("alice").sendMessage(SendMessageRequest.newBuilder().setThreadId(thread)
            .setRole(Role.ROLE_USER).setContent("m" + i).setDurabilityValue(1).build()).getMessage().getMessageId());
      }
    }
    return ids;
  }

  private long archived(String thread) throws Exception {
    return Long.parseLong(clickhouse.execute("SELECT count() FROM " + clickhouse.database()
        + ".messages_archive FINAL WHERE thread_id = '" + thread + "' FORMAT TabSeparated").strip());
  }

  private long inPostgres(String thread) throws SQLException {
    return Databases.count(settings, "SELECT count(*) FROM messages WHERE thread_id = ?", thread);
  }

  /** Every message listed exactly once, in order, by a gateway that does not archive. */
  private void assertListedOnce(String thread, List<String> ids) throws Exception {
    try (TestGateway reader = TestGateway.startWith(settings)) {
      assertThat(ArchiverTest.listAll(reader.as("alice"), thread, false)).containsExactlyElementsOf(ids);
    }
  }

  private void finishAndCheck(String thread, List<String> ids) throws Exception {
    try (GatewayProcess next = GatewayProcess.startServing(archiving(settings.get("MESSAGESTORE_CLICKHOUSE_URL")))) {
      Poll.until(Duration.ofSeconds(60), "the next gateway to finish the batch", () -> {
        try {
          return inPostgres(thread) == 0 && archived(thread) == ids.size();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
    assertListedOnce(thread, ids);
    assertThat(Databases.count(settings, "SELECT archived_messages FROM threads WHERE thread_id = ?", thread))
        .isEqualTo(ids.size());
  }

  @Test
  void killedAfterTheCopyEveryMessageIsListedOnceAndTheNextGatewayFinishes() throws Exception {
    String thread = "crash-copy-" + UUID.randomUUID();
    List<String> ids = seed(thread, 40);
    try (HoldingClickHouseProxy proxy = new HoldingClickHouseProxy(
        URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")), "MD5(")) {
      GatewayProcess archiver = GatewayProcess.startServing(archiving(proxy.url()));
      assertThat(proxy.awaitHeld(Duration.ofSeconds(60))).as("the read-back of the first batch").isTrue();

      archiver.kill9();

      assertThat(archived(thread)).as("copied before the kill").isEqualTo(40);
      assertThat(inPostgres(thread)).as("still in PostgreSQL").isEqualTo(40);
      assertListedOnce(thread, ids);
    }
    finishAndCheck(thread, ids);
  }

  @Test
  void killedAfterTheReadBackBeforeTheDeleteEveryMessageIsListedOnceAndTheNextGatewayFinishes() throws Exception {
    String thread = "crash-delete-" + UUID.randomUUID();
    List<String> ids = seed(thread, 40);
    try (Connection lock = Databases.connect(settings)) {
      // Rows locked by another transaction: the archiver's DELETE waits here, after its read-back.
      lock.setAutoCommit(false);
      try (PreparedStatement ps = lock.prepareStatement("SELECT 1 FROM messages WHERE thread_id = ? FOR UPDATE")) {
        ps.setString(1, thread);
        ps.executeQuery().close();
      }
      GatewayProcess archiver = GatewayProcess.startServing(archiving(settings.get("MESSAGESTORE_CLICKHOUSE_URL")));
      Poll.until(Duration.ofSeconds(60), "the archiver's delete to wait for the lock", () -> {
        try {
          return Databases.count(settings, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              + " AND query LIKE '%DELETE FROM messages%'") > 0;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(archived(thread)).as("copied and read back").isEqualTo(40);

      archiver.kill9();
      // PostgreSQL would let the dead client's DELETE finish once the lock goes; a crash before
      // the delete is a delete that never runs, so its backend goes first.
      Databases.count(settings, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
          + " WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM messages%'");
      lock.rollback();
    }
    assertThat(inPostgres(thread)).isEqualTo(40);
    assertListedOnce(thread, ids);
    finishAndCheck(thread, ids);
  }
}
