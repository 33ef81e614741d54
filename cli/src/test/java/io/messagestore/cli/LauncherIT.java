package io.messagestore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/messagestore} as the README runs it, on the jar that {@code mvn package} built:
 * an integration test, so that it runs after the package phase.
 */
class LauncherIT {

  @Test
  void theLauncherSendsAndListsAgainstARealGateway() throws Exception {
    String thread = "launcher-" + UUID.randomUUID().toString().substring(0, 8);
    try (TestGateway gateway = TestGateway.start()) {
      CliProcess launcher = CliProcess.launcher(LocalTiers.repoRoot())
          .env("MESSAGESTORE_TARGET", "127.0.0.1:" + gateway.gateway().port())
          .env("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);

      CliProcess.Result sent = launcher.run("--as", "launcher-user", "send", thread, "hello");
      CliProcess.Result listed = launcher.run("--as", "launcher-user", "list", thread);

      assertThat(sent.exitCode()).as(sent.toString()).isZero();
      assertThat(listed.exitCode()).as(listed.toString()).isZero();
      assertThat(listed.lines()).hasSize(2);
      assertThat(listed.lines().get(1)).contains(sent.stdout().split("\\s+")[0]).endsWith("  hello");
      // Built by the package phase, the jar is current: the launcher must not rebuild it.
      assertThat(sent.stderr()).doesNotContain("building");
    }
  }

  @Test
  void helpListsEveryCommand() {
    CliProcess.Result help = CliProcess.launcher(LocalTiers.repoRoot()).run("--help");

    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("send", "send-batch", "get", "list", "threads", "watch", "delete",
        "stats", "run-state", "admin");
  }
}
