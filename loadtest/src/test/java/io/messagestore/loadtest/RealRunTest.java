package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.gateway.GatewayUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Short real runs over a real Netty connection against a gateway started by the test. */
class RealRunTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayUnderTest gateway;

    @BeforeAll
    static void startGateway() {
        gateway = GatewayUnderTest.start();
    }

    @AfterAll
    static void stopGateway() {
        gateway.close();
    }

    private static String auth() {
        return "{\"authorization\":\"Bearer " + gateway.bearerToken() + "\"}";
    }

    @Test
    void healthCheckRunRecordsEveryCallAsOk() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-n", "500", "-c", "8", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("count").asLong()).isEqualTo(500);
        assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(500);
        assertThat(report.get("errorDistribution").size()).isZero();
        assertThat(report.get("endReason").asText()).isEqualTo("normal");
        assertThat(report.get("options").get("call").asText()).isEqualTo("grpc.health.v1.Health/Check");
        assertThat(report.get("cpuPerCallMicros").asDouble()).isPositive();
    }

    @Test
    void sendMessageRunWithTemplatesAndBearerTokenIsAcknowledged() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure",
                "--call", "messagestore.v1.MessageStore/SendMessage",
                "-d", "{\"thread_id\":\"lt-{{.WorkerID}}\",\"role\":\"ROLE_USER\",\"content\":\"hello {{randomString 16}}\","
                        + "\"idempotency_key\":\"{{newUUID}}\"}",
                "-m", auth(), "-n", "300", "-c", "4", "--connections", "2", "--skipFirst", "20",
                "-O", "json", "--name", "send smoke", "--tags", "{\"env\":\"test\"}", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("count").asLong()).isEqualTo(280);
        assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(280);
        assertThat(report.get("name").asText()).isEqualTo("send smoke");
        assertThat(report.get("tags").get("env").asText()).isEqualTo("test");
    }

    @Test
    void callsWithoutTheTokenAreCountedAsUnauthenticatedErrors() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure",
                "--call", "messagestore.v1.MessageStore/SendMessage", "-d", "{\"thread_id\":\"t1\",\"content\":\"x\"}",
                "-n", "50", "-c", "5", "-O", "json", gateway.target());

        assertThat(result.exitCode()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("statusCodeDistribution").get("Unauthenticated").asLong()).isEqualTo(50);
        assertThat(report.get("errorDistribution")
                .get("rpc error: code = Unauthenticated desc = missing or invalid bearer token").asLong()).isEqualTo(50);
        assertThat(report.get("latencyDistribution").size()).isZero();
    }

    @Test
    void aMethodKnownOnlyThroughServerReflectionIsResolvedAndCalled() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "loadtest.test.Echo/Say",
                "-d", "[{\"text\":\"a\"},{\"text\":\"b {{.RequestNumber}}\"}]", "-n", "40", "-c", "2", "-O", "json",
                gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(40);
    }

    @Test
    void serversWithOnlyTheOlderV1alphaReflectionAreResolvedToo() throws Exception {
        try (var legacy = io.messagestore.loadtest.gateway.FakeGateway.start(
                io.messagestore.loadtest.gateway.FakeGateway.Options.defaults().withLegacyReflection())) {
            CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "loadtest.test.Echo/Say",
                    "-d", "{\"text\":\"a\"}", "-n", "10", "-c", "1", "-O", "json", legacy.target());

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(10);
        }
    }

    @Test
    void theToolWarmupNeverReachesTheTarget() throws Exception {
        java.util.concurrent.atomic.AtomicInteger stored = new java.util.concurrent.atomic.AtomicInteger();
        try (var counting = io.messagestore.loadtest.gateway.FakeGateway.start(
                new io.messagestore.loadtest.gateway.FakeGateway.Options(0, (thread, id) -> stored.incrementAndGet(),
                        false))) {
            CommandRunner.Result result = CommandRunner.run("--insecure", "--tool-warmup", "2000",
                    "--call", "messagestore.v1.MessageStore/SendMessage", "-d", "{\"thread_id\":\"w\",\"content\":\"x\"}",
                    "-m", auth(), "-n", "25", "-c", "2", "-O", "json", counting.target());

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(JSON.readTree(result.stdout()).get("count").asLong()).isEqualTo(25);
            assertThat(stored.get()).isEqualTo(25);
        }
    }

    @Test
    void anUnknownMethodExitsNonZeroWithAOneLineReason() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "messagestore.v1.MessageStore/Nope",
                "-n", "5", gateway.target());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).isEqualTo("error: unknown method Nope in service messagestore.v1.MessageStore");
    }

    @Test
    void anUnknownServiceExitsNonZeroWithAOneLineReason() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "no.such.Service/Call",
                "-n", "5", gateway.target());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).startsWith("error: unknown service no.such.Service").doesNotContain("\n");
    }

    @Test
    void anUnreachableTargetExitsNonZeroWithAOneLineReason() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "--connect-timeout", "3s", "-n", "5", "127.0.0.1:1");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).startsWith("error: cannot connect to 127.0.0.1:1").doesNotContain("\n");
    }

    @Test
    void compareRunsTheBaselineAndTheTargetAndReportsRatios() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure",
                "--call", "messagestore.v1.MessageStore/SendMessage",
                "--compare", "grpc.health.v1.Health/Check",
                "-d", "{\"thread_id\":\"cmp\",\"content\":\"x\"}", "-m", auth(), "-n", "200", "-c", "4",
                "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode comparison = JSON.readTree(result.stdout());
        assertThat(comparison.get("baseline").get("options").get("call").asText())
                .isEqualTo("grpc.health.v1.Health/Check");
        assertThat(comparison.get("baseline").get("statusCodeDistribution").get("OK").asLong()).isEqualTo(200);
        assertThat(comparison.get("target").get("statusCodeDistribution").get("OK").asLong()).isEqualTo(200);
        assertThat(comparison.get("ratios").get("throughput").asDouble()).isPositive();
        assertThat(comparison.get("ratios").get("p99").asDouble()).isPositive();
    }

    @Test
    void compareSummaryPrintsBothRunsAndTheRatios() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "--compare", "grpc.health.v1.Health/Check", "-n", "50", "-c", "2", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains("Baseline: grpc.health.v1.Health/Check", "Target: grpc.health.v1.Health/Check",
                "Throughput:", "p50 latency:", "p99 latency:");
    }

    @Test
    void mixedScenarioReportsEveryOperationIncludingUnimplementedOnes() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--scenario", "mixed",
                "--mix", "send=60,get=25,list=10,watch=5", "--threads", "10", "--watch-hold", "100ms",
                "-m", auth(), "-n", "400", "-c", "8", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("count").asLong()).isEqualTo(400);
        JsonNode operations = report.get("operations");
        assertThat(operations.get("send").get("count").asLong()).isEqualTo(240);
        assertThat(operations.get("send").get("statusCodeDistribution").get("OK").asLong()).isEqualTo(240);
        assertThat(operations.get("get").get("count").asLong()).isEqualTo(100);
        assertThat(operations.get("get").get("statusCodeDistribution").get("Unimplemented").asLong()).isEqualTo(100);
        assertThat(operations.get("list").get("count").asLong()).isEqualTo(40);
        assertThat(operations.get("watch").get("count").asLong()).isEqualTo(20);
        assertThat(operations.get("watch").get("statusCodeDistribution").get("Unimplemented").asLong()).isEqualTo(20);
    }

    @Test
    void summaryLooksLikeGhz() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-n", "100", "-c", "2", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).contains("Summary:", "Count:\t100", "Requests/sec:", "Response time histogram:",
                "Latency distribution:", "  99 % in ", "Status code distribution:", "[OK]\t100 responses");
    }

    @Test
    void noProgressLineIsDrawnWhenStdoutIsNotATerminal() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-z", "600ms", "-c", "2", "--rps", "100", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).doesNotContain("\r").doesNotContain("req/s");
    }

    @Test
    void theProgressLineShowsDoneOfTotalRateAndErrorsWhenAskedFor() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-n", "120", "-c", "1", "--rps", "100", "--progress", "always", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout()).containsPattern("\r  \\d+/120  \\d+ req/s  0 errors");
    }

    @Test
    void aRateLimitedRealRunAchievesTheAskedRateWithinFivePercent() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-z", "2s", "--rps", "400", "-c", "10", "--duration-stop", "wait", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("rps").asDouble()).isBetween(380.0, 420.0);
        assertThat(report.get("count").asLong()).isBetween(760L, 840L);
    }

    @Test
    void durationRunEndsWithTimeoutAsEndReason() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", "grpc.health.v1.Health/Check",
                "-z", "700ms", "-c", "2", "--rps", "200", "--duration-stop", "wait", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("endReason").asText()).isEqualTo("timeout");
        assertThat(report.get("count").asLong()).isBetween(100L, 160L);
        assertThat(report.get("options").get("duration").asLong()).isEqualTo(700_000_000L);
    }
}
