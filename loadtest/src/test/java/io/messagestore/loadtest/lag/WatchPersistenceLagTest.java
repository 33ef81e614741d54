package io.messagestore.loadtest.lag;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.CommandRunner;
import io.messagestore.loadtest.gateway.FakeGateway;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Persistence lag from WatchThread's MESSAGE_PERSISTED events (the fake persists 30 ms after the ack). */
class WatchPersistenceLagTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void watchThreadPersistedEventsGiveTheLagWithoutPostgres() throws Exception {
        try (FakeGateway watching = FakeGateway.start(FakeGateway.Options.defaults().withWatchPersisting(30))) {
            CommandRunner.Result result = CommandRunner.run("--insecure",
                    "--call", "messagestore.v1.MessageStore/SendMessage",
                    "-d", "{\"thread_id\":\"watch-{{.WorkerID}}\",\"content\":\"x\"}",
                    "-m", "{\"authorization\":\"Bearer " + FakeGateway.TOKEN + "\"}",
                    "-n", "200", "-c", "4", "--rps", "400",
                    "--measure-persistence-lag", "--lag-source", "watch", "--lag-sample-every", "5",
                    "--lag-wait", "5s", "-O", "json", watching.target());

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            JsonNode lag = JSON.readTree(result.stdout()).get("persistenceLag");
            assertThat(lag.get("source").asText()).isEqualTo("watch");
            assertThat(lag.get("sampled").asLong()).isEqualTo(40);
            assertThat(lag.get("persisted").asLong()).isEqualTo(40);
            assertThat(lag.get("p50").asLong()).isBetween(TimeUnit.MILLISECONDS.toNanos(20),
                    TimeUnit.MILLISECONDS.toNanos(150));
        }
    }
}
