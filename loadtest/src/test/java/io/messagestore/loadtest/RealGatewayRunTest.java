package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Short runs against the real gateway on the real tiers, as the benchmarks use it. */
class RealGatewayRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = TestGateway.start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static String target() {
        return "127.0.0.1:" + gateway.gateway().port();
    }

    @Test
    void healthCheckRunAgainstTheGatewayIsAllOk() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-n", "300", "-c", "10", "--tool-warmup", "0", "-O", "json", target());
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(300);
    }

    @Test
    void sendMessageRunStoresEveryMessageInPostgres() throws Exception {
        String prefix = "lt-" + UUID.randomUUID().toString().substring(0, 8);
        String auth = "{\"authorization\":\"Bearer " + Tokens.user("loadtest") + "\"}";
        CommandRunner.Result result = CommandRunner.run("--insecure",
                "--call", "messagestore.v1.MessageStore/SendMessage",
                "-d", "{\"thread_id\":\"" + prefix + "-{{randomInt 0 5}}\",\"role\":\"ROLE_USER\","
                        + "\"content\":\"{{randomString 512}}\"}",
                "-m", auth, "-n", "400", "-c", "20", "--tool-warmup", "0", "-O", "json", target());
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(400);
        Poll.until(Duration.ofSeconds(20), "400 messages in postgres", () -> {
            try {
                return Databases.count(TestGateway.settings(Map.of()),
                        "SELECT count(*) FROM messages WHERE thread_id LIKE ?", prefix + "-%") == 400;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void watchersOnAnotherInstanceGetEverySendOfTheRunWithItsDeliveryDelay() throws Exception {
        try (TestGateway other = TestGateway.start()) {
            String thread = "lt-watch-" + UUID.randomUUID().toString().substring(0, 8);
            String auth = "{\"authorization\":\"Bearer " + Tokens.user("loadtest") + "\"}";
            CommandRunner.Result result = CommandRunner.run("--insecure",
                    "--call", "messagestore.v1.MessageStore/SendMessage",
                    "-d", "{\"thread_id\":\"" + thread + "\",\"role\":\"ROLE_USER\",\"content\":\"{{randomString 64}}\"}",
                    "-m", auth, "-n", "200", "-c", "4", "--rps", "200",
                    "--watch-streams", "3", "--watch-host", "127.0.0.1:" + other.gateway().port(),
                    "-O", "json", target());

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            JsonNode report = JSON.readTree(result.stdout());
            assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(200);
            JsonNode watch = report.get("watch");
            assertThat(watch.get("established").asLong()).isEqualTo(3);
            assertThat(watch.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(3);
            assertThat(watch.get("delivered").asLong()).isEqualTo(600);
            assertThat(watch.get("delivery").get("p50").asLong()).isPositive();
        }
    }

    @Test
    void mixedRunWithStatsDrivesGetThreadStatsAgainstTheGateway() throws Exception {
        String auth = "{\"authorization\":\"Bearer " + Tokens.user("loadtest") + "\"}";
        CommandRunner.Result result = CommandRunner.run("--insecure", "--scenario", "mixed",
                "--mix", "send=3,stats=1", "--threads", "5", "-m", auth, "-n", "200", "-c", "10",
                "--tool-warmup", "0", "-O", "json", target());
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode stats = JSON.readTree(result.stdout()).get("operations").get("stats");
        assertThat(stats.get("count").asLong()).isEqualTo(50);
        assertThat(stats.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(50);
    }
}
