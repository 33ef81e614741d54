package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.gateway.FakeGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ghz's {@code -m @file} and {@code -d @file}: the file's JSON is what the server receives,
 * and a file that cannot be used is named in one line that never shows a header value.
 */
class FileArgumentsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SEND = "messagestore.v1.MessageStore/SendMessage";
    private static final String NO_SERVER = "127.0.0.1:1";

    private static final List<String> storedThreads = new CopyOnWriteArrayList<>();
    private static FakeGateway gateway;

    @TempDir
    Path dir;

    @BeforeAll
    static void startGateway() {
        gateway = FakeGateway.start(new FakeGateway.Options(0, (thread, id) -> storedThreads.add(thread), false));
    }

    @AfterAll
    static void stopGateway() {
        gateway.close();
    }

    /** The auth.json of docs/LOADTEST.md, laid out over several lines as people write it. */
    private Path authFile() throws IOException {
        return write("auth.json", "{\n  \"authorization\": \"Bearer " + FakeGateway.TOKEN + "\"\n}\n");
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    @Test
    void metadataFromAFileReachesTheServer() throws Exception {
        // the fake gateway answers Unauthenticated unless the bearer token of the file arrives
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND,
                "-m", "@" + authFile(), "-d", "{\"thread_id\":\"m-file\",\"content\":\"x\"}",
                "-n", "20", "-c", "2", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(20);
    }

    @Test
    void metadataFileFlagReadsTheSameFile() throws Exception {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND,
                "-M", authFile().toString(), "-d", "{\"thread_id\":\"m-flag\",\"content\":\"x\"}",
                "-n", "5", "-c", "1", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(JSON.readTree(result.stdout()).get("statusCodeDistribution").get("OK").asLong()).isEqualTo(5);
    }

    @Test
    void dataFromAFileIsWhatTheServerReceives() throws Exception {
        Path data = write("data.json", "{\n  \"thread_id\": \"from-data-file\",\n  \"content\": \"hello\"\n}\n");

        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND, "-m", "@" + authFile(),
                "-d", "@" + data, "-n", "7", "-c", "1", "-O", "json", gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        JsonNode report = JSON.readTree(result.stdout());
        assertThat(report.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(7);
        assertThat(storedThreads).filteredOn("from-data-file"::equals).hasSize(7);
    }

    @Test
    void dataAtSignAloneIsReadFromStdin() throws Exception {
        CommandRunner.Result result = CommandRunner.runWithStdin("{\"thread_id\":\"from-stdin\",\"content\":\"x\"}",
                "--insecure", "--call", SEND, "-m", "@" + authFile(), "-d", "@", "-n", "3", "-c", "1", "-O", "json",
                gateway.target());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(storedThreads).filteredOn("from-stdin"::equals).hasSize(3);
    }

    @Test
    void aMetadataFileThatIsNotJsonGivesOneLineWithoutTheToken() throws Exception {
        Path bad = write("bad-auth.json", "{\"authorization\": Bearer SECRET-TOKEN-42}\n");

        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND, "-m", "@" + bad, NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).hasLineCount(1).startsWith("error: -m metadata file " + bad)
                .contains("not valid JSON").doesNotContain("SECRET", "Bearer");
    }

    @Test
    void aHeaderValueGrpcCannotSendIsNamedByItsHeaderNotItsValue() throws Exception {
        Path bad = write("newline.json", "{\"authorization\": \"Bearer SECRET-TOKEN-42\\n\"}");

        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND, "-m", "@" + bad, NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).hasLineCount(1).contains("header 'authorization'").doesNotContain("SECRET");
    }

    @Test
    void inlineMetadataErrorsDoNotEchoTheTokenEither() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND,
                "-m", "{\"authorization\":\"Bearer SECRET-TOKEN-42\"", NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).hasLineCount(1).startsWith("error: -m metadata is not valid JSON")
                .doesNotContain("SECRET");
    }

    @Test
    void unquotedMetadataSplitByTheShellIsRejectedWithoutShowingItsPieces() {
        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND,
                "-m", "{\"authorization\":", "\"Bearer", "SECRET-TOKEN-42\"}", NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).hasLineCount(1).contains("unexpected arguments").doesNotContain("SECRET");
    }

    @Test
    void aMissingMetadataFileIsNamed() {
        Path missing = dir.resolve("no-such-auth.json");

        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND, "-m", "@" + missing, NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).hasLineCount(1)
                .isEqualToIgnoringNewLines("error: cannot read -m file " + missing + ": no such file");
    }

    @Test
    void aMissingDataFileIsNamed() {
        Path missing = dir.resolve("no-such-data.json");

        CommandRunner.Result result = CommandRunner.run("--insecure", "--call", SEND, "-d", "@" + missing, NO_SERVER);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).hasLineCount(1)
                .isEqualToIgnoringNewLines("error: cannot read -d file " + missing + ": no such file");
    }
}
