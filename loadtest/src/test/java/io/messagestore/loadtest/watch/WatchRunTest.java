package io.messagestore.loadtest.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.loadtest.CommandRunner;
import io.messagestore.loadtest.gateway.FakeGateway;
import io.messagestore.server.testing.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** WatchThread streams driven by the tool, against the fake gateway's MESSAGE_CONFIRMED events. */
class WatchRunTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AUTH = "{\"authorization\":\"Bearer " + FakeGateway.TOKEN + "\"}";

    /** A SendMessage run against the gateway with these options; its JSON report. */
    private static JsonNode sendRun(FakeGateway gateway, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("--insecure", "--call", "messagestore.v1.MessageStore/SendMessage",
                "-m", AUTH, "-O", "json"));
        args.addAll(List.of(options));
        args.add(gateway.target());
        CommandRunner.Result result = CommandRunner.run(args.toArray(String[]::new));
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        return JSON.readTree(result.stdout());
    }

    @Test
    void watchersOfASendRunReceiveEverySendOfTheirThreadAndReportTheDelay() throws Exception {
        try (FakeGateway gateway = FakeGateway.start(FakeGateway.Options.defaults().withWatchConfirming())) {
            // sends alternate between two threads; streams 0 and 1 watch wa, stream 2 wb
            JsonNode report = sendRun(gateway,
                    "-d", "[{\"thread_id\":\"wa\",\"content\":\"x\"},{\"thread_id\":\"wb\",\"content\":\"y\"}]",
                    "--watch-streams", "3", "--watch-data", "[{\"thread_id\":\"wa\"},{\"thread_id\":\"wa\"},{\"thread_id\":\"wb\"}]",
                    "-n", "300", "-c", "4", "--rps", "1000");
            assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(300);
            JsonNode watch = report.get("watch");
            assertThat(watch.get("streams").asLong()).isEqualTo(3);
            assertThat(watch.get("established").asLong()).isEqualTo(3);
            assertThat(watch.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(3);
            // 150 sends to each thread: 2 x 150 + 1 x 150 measured, plus each stream's replay of its thread's seed
            assertThat(watch.get("delivered").asLong()).isEqualTo(450);
            assertThat(watch.get("events").get("MESSAGE_CONFIRMED").asLong()).isEqualTo(453);
            JsonNode delay = watch.get("delivery");
            assertThat(delay.get("p50").asLong()).isLessThanOrEqualTo(delay.get("p99").asLong());
            assertThat(delay.get("p99").asLong()).isLessThanOrEqualTo(delay.get("max").asLong())
                    .isLessThan(TimeUnit.SECONDS.toNanos(5));
        }
    }

    @Test
    void watchersOfTheSendDataWatchItsThreadsWhenNoWatchDataIsGiven() throws Exception {
        try (FakeGateway gateway = FakeGateway.start(FakeGateway.Options.defaults().withWatchConfirming())) {
            JsonNode watch = sendRun(gateway,
                    "-d", "{\"thread_id\":\"only\",\"role\":\"ROLE_USER\",\"content\":\"{{randomString 16}}\"}",
                    "--watch-streams", "4", "-n", "100", "-c", "2").get("watch");
            assertThat(watch.get("delivered").asLong()).isEqualTo(400);
        }
    }

    @Test
    void streamsAreHeldForTheDurationAndTheirEndsCountedByStatus() throws Exception {
        try (FakeGateway gateway = FakeGateway.start(FakeGateway.Options.defaults().withWatchConfirming())) {
            ManagedChannel channel = ManagedChannelBuilder.forTarget(gateway.target()).usePlaintext().build();
            Metadata auth = new Metadata();
            auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + FakeGateway.TOKEN);
            MessageStoreGrpc.MessageStoreBlockingStub sender = MessageStoreGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
            SendMessageRequest send = SendMessageRequest.newBuilder().setThreadId("known").setContent("x").build();
            sender.sendMessage(send);
            try {
                // streams 0, 2, 4 watch a thread that exists, 1 and 3 one that does not (NOT_FOUND)
                CompletableFuture<CommandRunner.Result> run = CompletableFuture.supplyAsync(() -> CommandRunner.run(
                        "--insecure", "--call", "messagestore.v1.MessageStore/WatchThread", "-m", AUTH,
                        "-d", "[{\"thread_id\":\"known\"},{\"thread_id\":\"unknown-{{.RequestNumber}}\"}]",
                        "--streams", "5", "-z", "3s", "-O", "json", gateway.target()));
                Poll.until(Duration.ofSeconds(20), "3 streams on the known thread",
                        () -> gateway.watchers("known") == 3 || run.isDone());
                assertThat(gateway.watchers("known")).as("streams on the known thread").isEqualTo(3);
                for (int i = 0; i < 20; i++) {
                    sender.sendMessage(send);
                }

                CommandRunner.Result result = run.get(30, TimeUnit.SECONDS);
                assertThat(result.exitCode()).as(result.stderr()).isZero();
                JsonNode report = JSON.readTree(result.stdout());
                assertThat(report.get("count").asLong()).isEqualTo(5);
                assertThat(report.get("endReason").asText()).isEqualTo("timeout");
                assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(3);
                assertThat(report.get("statusCodeDistribution").get("NotFound").asLong()).isEqualTo(2);
                JsonNode watch = report.get("watch");
                assertThat(watch.get("streams").asLong()).isEqualTo(5);
                assertThat(watch.get("established").asLong()).isEqualTo(3);
                assertThat(watch.get("events").get("MESSAGE_CONFIRMED").asLong()).isEqualTo(60);
                assertThat(watch.get("delivered").asLong()).isEqualTo(60);
                assertThat(watch.get("errorDistribution").fieldNames()).toIterable()
                        .allMatch(error -> error.contains("code = NotFound"));
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
