package io.messagestore.loadtest.lag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.CommandRunner;
import io.messagestore.loadtest.gateway.FakeGateway;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Persistence lag against a real PostgreSQL: the fake gateway commits each message to a
 * private {@code messages} table 40 ms after acknowledging it, and the tool must see that.
 * Uses the PostgreSQL of the development and CI machines (127.0.0.1:5432, trust auth, or
 * MESSAGESTORE_TEST_POSTGRES_URL); skipped when none is reachable.
 */
class PersistenceLagTest {

    private static final String SERVER_URL = System.getenv().getOrDefault("MESSAGESTORE_TEST_POSTGRES_URL",
            "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
    private static final long COMMIT_DELAY_MILLIS = 40;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String schema;
    private static String schemaUrl;
    private static Connection writer;
    private static ScheduledExecutorService persister;
    private static FakeGateway gateway;

    @BeforeAll
    static void createTableAndGateway() throws SQLException {
        Connection admin;
        try {
            admin = DriverManager.getConnection(SERVER_URL);
        } catch (SQLException e) {
            assumeTrue(false, "no PostgreSQL at " + SERVER_URL + ": " + e.getMessage());
            return;
        }
        schema = "loadtest_lag_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (admin; Statement ddl = admin.createStatement()) {
            ddl.execute("CREATE SCHEMA " + schema);
            ddl.execute("CREATE TABLE " + schema + ".messages (message_id uuid PRIMARY KEY, thread_id text)");
        }
        schemaUrl = SERVER_URL + "&currentSchema=" + schema;
        writer = DriverManager.getConnection(schemaUrl);
        persister = Executors.newSingleThreadScheduledExecutor();
        PreparedStatement insert = writer.prepareStatement("INSERT INTO messages (message_id, thread_id) VALUES (?, ?)");
        gateway = FakeGateway.start(new FakeGateway.Options(0, (thread, id) ->
                persister.schedule(() -> {
                    insert.setObject(1, UUID.fromString(id));
                    insert.setString(2, thread);
                    insert.executeUpdate();
                    return null;
                }, COMMIT_DELAY_MILLIS, TimeUnit.MILLISECONDS), false));
    }

    @AfterAll
    static void dropEverything() throws SQLException {
        if (gateway != null) {
            gateway.close();
        }
        if (persister != null) {
            persister.shutdownNow();
        }
        if (writer != null) {
            try (Statement ddl = writer.createStatement()) {
                ddl.execute("DROP SCHEMA " + schema + " CASCADE");
            }
            writer.close();
        }
    }

    private static JsonNode runWithLag(String source) throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure",
                "--call", "messagestore.v1.MessageStore/SendMessage",
                "-d", "{\"thread_id\":\"lag-{{.WorkerID}}\",\"content\":\"x\"}",
                "-m", "{\"authorization\":\"Bearer " + FakeGateway.TOKEN + "\"}",
                "-n", "200", "-c", "4", "--rps", "400",
                "--measure-persistence-lag", "--lag-source", source, "--lag-sample-every", "5",
                "--postgres-jdbc-url", schemaUrl, "--lag-wait", "5s", "-O", "json", gateway.target());
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        return JSON.readTree(result.stdout()).get("persistenceLag");
    }

    @Test
    void pollingPostgresSeesEverySampledMessageCommittedAfterTheAcknowledgement() throws Exception {
        JsonNode lag = runWithLag("postgres");

        assertThat(lag.get("source").asText()).isEqualTo("postgres");
        assertThat(lag.get("sampled").asLong()).isEqualTo(40);
        assertThat(lag.get("persisted").asLong()).isEqualTo(40);
        long p50 = lag.get("p50").asLong();
        assertThat(p50).isBetween(TimeUnit.MILLISECONDS.toNanos(COMMIT_DELAY_MILLIS - 10),
                TimeUnit.MILLISECONDS.toNanos(COMMIT_DELAY_MILLIS + 150));
        assertThat(lag.get("max").asLong()).isGreaterThanOrEqualTo(lag.get("p99").asLong());
    }

    @Test
    void autoFallsBackToPollingWhileWatchThreadIsUnimplemented() throws Exception {
        JsonNode lag = runWithLag("auto");

        assertThat(lag.get("source").asText()).isEqualTo("postgres");
        assertThat(lag.get("sampled").asLong()).isEqualTo(40);
        assertThat(lag.get("persisted").asLong()).isEqualTo(40);
    }
}
