package io.messagestore.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import com.nimbusds.jwt.SignedJWT;
import io.messagestore.server.testing.Tokens;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

class GatewayCommandLineTest {
  private static final Map<String, String> ENV = Map.of("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);

  record Run(int exitCode, String out, String err) {}

  static Run run(Map<String, String> environment, String... args) {
    CommandLine cl = GatewayMain.commandLine(environment);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static Stream<Arguments> badCommandLines() {
    return Stream.of(
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl", "-1h"}, "'-1h'"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl", "1x"}, "'1x'"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl", "0s"}, "'0s'"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl", "PT-5M"}, "'PT-5M'"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl", "99999999999d"}, "'99999999999d'"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--ttl"}, "--ttl"),
        Arguments.of(new String[] {"token", "--ttl", "1h"}, "--sub"),
        Arguments.of(new String[] {"token", "--sub", " "}, "--sub"),
        Arguments.of(new String[] {"token", "--sub", "alice", "--expires", "1h"}, "--expires"),
        Arguments.of(new String[] {"--port", "50052"}, "--port"),
        Arguments.of(new String[] {"serve"}, "serve"),
        Arguments.of(new String[] {"--set", "MESSAGESTORE_GRPC_PORT"}, "MESSAGESTORE_GRPC_PORT"),
        Arguments.of(new String[] {"--set", "MESSAGESTORE_GRPC_PROT=50052"}, "MESSAGESTORE_GRPC_PROT"),
        Arguments.of(new String[] {"--set", "MESSAGESTORE_GRPC_PORT=seventy", "--check-config"},
            "MESSAGESTORE_GRPC_PORT=seventy"),
        Arguments.of(new String[] {"--config-file", "/nonexistent/gateway.properties", "--check-config"},
            "/nonexistent/gateway.properties"));
  }

  @ParameterizedTest
  @MethodSource("badCommandLines")
  void aBadOptionIsOneLineNamingItAndExitCodeTwo(String[] args, String named) {
    Run r = run(ENV, args);

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).singleElement(STRING)
        .contains(named)
        .doesNotContain("Exception");
  }

  @Test
  void aTokenLivesAsLongAsItsTtl() throws Exception {
    Run r = run(ENV, "token", "--sub", "alice", "--role", "admin", "--ttl", "15m");

    assertThat(r.exitCode()).isZero();
    assertThat(r.err()).isEmpty();
    var claims = SignedJWT.parse(r.out().trim()).getJWTClaimsSet();
    assertThat(claims.getSubject()).isEqualTo("alice");
    assertThat(claims.getStringListClaim("roles")).containsExactly("admin");
    assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
        .isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void aTokenWithoutASecretIsOneLineAndExitCodeTwo() {
    Run r = run(Map.of(), "token", "--sub", "alice");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).singleElement(STRING)
        .contains("MESSAGESTORE_JWT_SECRET");
  }

  @Test
  void settingsFromAFileAndSetAreCheckedAndPrinted(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("gateway.properties");
    Files.writeString(file, "MESSAGESTORE_GRPC_PORT=6000\nMESSAGESTORE_STREAM_SHARDS=8\n");

    Run r = run(ENV, "--config-file", file.toString(), "--set", "MESSAGESTORE_GRPC_PORT=7000", "--check-config");

    assertThat(r.exitCode()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).contains("grpc=127.0.0.1:7000").contains("shards=8");
  }

  @Test
  void checkConfigShowsThePostgresUserFromTheUrlButNotItsPassword() {
    Run r = run(Map.of("MESSAGESTORE_JWT_SECRET", Tokens.SECRET,
        "MESSAGESTORE_POSTGRES_URL", "postgresql://app:hunter2@db.example:5432/prod"), "--check-config");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("postgres=jdbc:postgresql://db.example:5432/prod as app")
        .doesNotContain("hunter2");
  }

  @Test
  void aBadPostgresUrlIsOneLineWithoutItsPassword() {
    Run r = run(Map.of("MESSAGESTORE_JWT_SECRET", Tokens.SECRET,
        "MESSAGESTORE_POSTGRES_URL", "postgresql://app:hunter2@db.example:port/prod"), "--check-config");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).singleElement(STRING)
        .contains("MESSAGESTORE_POSTGRES_URL=postgresql://app:***@db.example:port/prod").doesNotContain("hunter2");
  }

  @Test
  void theLauncherPrintsOneLineAndExitsTwoForABadTtl() throws Exception {
    Process p = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName(),
        "token", "--sub", "alice", "--ttl", "-1h")
        .start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).isEmpty();
    assertThat(err.lines()).singleElement(STRING)
        .contains("--ttl").contains("'-1h'");
  }
}
