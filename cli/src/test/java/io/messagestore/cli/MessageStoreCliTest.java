package io.messagestore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TtlClass;
import io.messagestore.cli.CliProcess.Result;
import io.micrometer.core.instrument.Counter;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code messagestore} run as a process, as a user runs it, against a real gateway and tiers. */
class MessageStoreCliTest {
  private static TestGateway gateway;
  private static String target;

  @BeforeAll
  static void startGateway() throws Exception {
    gateway = TestGateway.start();
    target = "127.0.0.1:" + gateway.gateway().port();
  }

  @AfterAll
  static void stopGateway() {
    gateway.close();
  }

  /** The CLI aimed at the test gateway, able to mint tokens with --as. */
  private static CliProcess cli() {
    return CliProcess.java()
        .env("MESSAGESTORE_TARGET", target)
        .env("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);
  }

  private static String thread() {
    return "cli-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String user() {
    return "cli-user-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static <M extends Message> M parse(String json, Supplier<Message.Builder> builder) {
    Message.Builder b = builder.get();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not protobuf JSON: " + json, e);
    }
    @SuppressWarnings("unchecked")
    M message = (M) b.build();
    return message;
  }

  private static Result succeeded(Result result) {
    assertThat(result.exitCode()).as(result.toString()).isZero();
    return result;
  }

  /** A failure is one line on stderr, nothing on stdout. */
  private static String failedWith(Result result, int exitCode) {
    assertThat(result.exitCode()).as(result.toString()).isEqualTo(exitCode);
    assertThat(result.stderr().lines()).as(result.toString()).hasSize(1);
    assertThat(result.stdout()).as(result.toString()).isEmpty();
    return result.stderr().strip();
  }

  // --- messages ---

  @Test
  void sentMessageComesBackFromGetAsTextAndAsJson() {
    String thread = thread();
    String alice = user();

    Result sent = succeeded(cli().run("--as", alice, "send", thread, "hello from the shell"));
    String id = sent.stdout().split("\\s+")[0];
    assertThat(sent.stdout()).contains("acknowledged by redis");

    Result text = succeeded(cli().run("--as", alice, "get", thread, id));
    assertThat(text.lines()).contains("message_id   " + id, "user_id      " + alice, "role         user",
        "hello from the shell");

    GetMessageResponse json = parse(succeeded(cli().run("get", thread, id, "-o", "json", "--as", alice))
        .stdout(), GetMessageResponse::newBuilder);
    assertThat(json.getMessage().getContent()).isEqualTo("hello from the shell");
    assertThat(json.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
  }

  @Test
  void contentComesFromStdinWithoutItsTrailingLineBreakAndOptionsReachTheServer() {
    String thread = thread();
    String alice = user();

    Result sent = succeeded(cli().runWithInput("two\nlines\n", "--as", alice, "-o", "json", "send", thread,
        "--durable", "--role", "assistant", "--metadata", "source=cli", "--metadata", "run=7",
        "--idempotency-key", "key-1"));
    SendMessageResponse response = parse(sent.stdout(), SendMessageResponse::newBuilder);
    Result repeated = succeeded(cli().runWithInput("two\nlines\n", "--as", alice, "-o", "json", "send", thread,
        "--idempotency-key", "key-1"));

    assertThat(response.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(response.getMessage().getContent()).isEqualTo("two\nlines");
    assertThat(response.getMessage().getRole()).isEqualTo(Role.ROLE_ASSISTANT);
    assertThat(response.getMessage().getMetadataMap()).containsEntry("source", "cli").containsEntry("run", "7");
    SendMessageResponse duplicate = parse(repeated.stdout(), SendMessageResponse::newBuilder);
    assertThat(duplicate.getDuplicate()).isTrue();
    assertThat(duplicate.getMessage().getMessageId()).isEqualTo(response.getMessage().getMessageId());
  }

  @Test
  void sendBatchStoresJsonLinesInOrderAndListPagesThroughAllOfThem() {
    String thread = thread();
    String alice = user();
    StringBuilder lines = new StringBuilder();
    for (int i = 1; i <= 7; i++) {
      lines.append(i == 3 ? "{\"role\":\"ROLE_TOOL\",\"content\":\"m3\"}" : "{\"content\":\"m" + i + "\"}")
          .append("\n").append(i == 4 ? "\n" : "");
    }

    Result batch = succeeded(cli().runWithInput(lines.toString(), "--as", alice, "send-batch", thread,
        "--role", "assistant", "--batch-size", "3"));
    assertThat(batch.lines()).hasSize(7).allSatisfy(l -> assertThat(l).contains("acknowledged by redis"));

    List<io.messagestore.api.v1.Message> all = succeeded(cli().run("--as", alice, "-o", "json", "list", thread,
        "--page-size", "3")).lines().stream()
        .<io.messagestore.api.v1.Message>map(l -> parse(l, io.messagestore.api.v1.Message::newBuilder)).toList();
    assertThat(all).extracting(io.messagestore.api.v1.Message::getContent)
        .containsExactly("m1", "m2", "m3", "m4", "m5", "m6", "m7");
    assertThat(all).extracting(io.messagestore.api.v1.Message::getRole)
        .containsOnly(Role.ROLE_ASSISTANT, Role.ROLE_TOOL);
    assertThat(all.get(2).getRole()).isEqualTo(Role.ROLE_TOOL);

    Result newest = succeeded(cli().run("--as", alice, "list", thread, "--newest-first", "--limit", "2"));
    assertThat(newest.lines()).hasSize(3);
    assertThat(newest.lines().get(0)).startsWith("CREATED_AT").contains("CONTENT");
    assertThat(newest.lines().get(1)).endsWith("  m7");
    assertThat(newest.lines().get(2)).endsWith("  m6");
  }

  @Test
  void aBatchLineThatIsNotJsonIsBadUsageAndStoresNothing() {
    String thread = thread();
    String alice = user();

    String error = failedWith(cli().runWithInput("{\"content\":\"ok\"}\nnot json\n", "--as", alice,
        "send-batch", thread), 2);

    assertThat(error).contains("line 2 is not a SendMessageRequest");
    assertThat(succeeded(cli().run("--as", alice, "list", thread)).lines()).singleElement()
        .satisfies(header -> assertThat(header).startsWith("CREATED_AT"));
  }

  @Test
  void threadsListsOnlyTheCallersThreads() {
    String alice = user();
    String first = thread();
    String second = thread();
    succeeded(cli().run("--as", alice, "send", first, "a"));
    succeeded(cli().run("--as", alice, "send", second, "b"));
    succeeded(cli().run("--as", user(), "send", thread(), "someone else's"));

    List<ThreadSummary> threads = succeeded(cli().run("--as", alice, "threads", "-o", "json")).lines().stream()
        .<ThreadSummary>map(l -> parse(l, ThreadSummary::newBuilder)).toList();
    assertThat(threads).extracting(ThreadSummary::getThreadId).containsExactlyInAnyOrder(first, second);

    Result text = succeeded(cli().run("--as", alice, "threads", "--limit", "1"));
    assertThat(text.lines()).hasSize(2);
    assertThat(text.lines().get(0)).startsWith("THREAD").contains("MESSAGES", "OWNER");
    assertThat(text.lines().get(1)).endsWith(alice);
  }

  // --- connection and auth ---

  @Test
  void globalOptionsWorkBeforeOrAfterTheSubcommand() {
    String thread = thread();
    String alice = user();
    CliProcess noDefaultTarget = CliProcess.java().env("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);
    String id = succeeded(noDefaultTarget.run("--target", target, "--as", alice, "send", thread, "x"))
        .stdout().split("\\s+")[0];

    Result before = succeeded(noDefaultTarget.run("--target", target, "-o", "json", "--as", alice, "get", thread, id));
    Result after = succeeded(noDefaultTarget.run("get", thread, id, "--as", alice, "--target", target, "-o", "json"));

    assertThat(after.stdout()).isEqualTo(before.stdout());
    assertThat(before.stdout()).startsWith("{\"message\":{\"message_id\":\"" + id + "\"");
  }

  @Test
  void theTokenComesFromTheEnvironmentOrAFile(@TempDir Path dir) throws Exception {
    String thread = thread();
    String alice = user();
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, Tokens.user(alice) + "\n");

    succeeded(CliProcess.java().env("MESSAGESTORE_TARGET", target).env("MESSAGESTORE_TOKEN", Tokens.user(alice))
        .run("send", thread, "from the environment"));
    Result fromFile = succeeded(CliProcess.java().env("MESSAGESTORE_TARGET", target)
        .run("--token-file", tokenFile.toString(), "list", thread));

    assertThat(fromFile.stdout()).contains("from the environment");
  }

  @Test
  void aBadTokenIsUnauthenticatedOnOneLine() {
    String error = failedWith(cli().run("--token", "not-a-jwt", "threads"), 1);

    assertThat(error).startsWith("UNAUTHENTICATED: ");
    assertThat(error).doesNotContain("not-a-jwt");
  }

  @Test
  void noTokenAtAllSaysHowToGiveOne() {
    String error = failedWith(CliProcess.java().env("MESSAGESTORE_TARGET", target).run("threads"), 1);

    assertThat(error).startsWith("UNAUTHENTICATED: ").contains("--token", "MESSAGESTORE_TOKEN", "--as");
  }

  @Test
  void anUnknownMessageIsNotFoundAndAnotherUsersThreadIsDenied() {
    String thread = thread();
    String alice = user();
    succeeded(cli().run("--as", alice, "send", thread, "mine"));

    assertThat(failedWith(cli().run("--as", alice, "get", thread, UUID.randomUUID().toString()), 1))
        .startsWith("NOT_FOUND: ");
    assertThat(failedWith(cli().run("--as", user(), "list", thread), 1))
        .startsWith("PERMISSION_DENIED: ").contains(thread);
  }

  @Test
  void anUnreachableGatewayIsUnavailable() {
    String error = failedWith(cli().run("--target", "127.0.0.1:" + FreePorts.next(), "--as", user(),
        "--timeout", "5s", "threads"), 1);

    assertThat(error).startsWith("UNAVAILABLE");
  }

  // --- usage ---

  @Test
  void badUsageIsOneLineAndExitCode2() {
    assertThat(failedWith(cli().run("thread"), 2)).contains("'thread'").contains("did you mean: threads");
    assertThat(failedWith(cli().run("send"), 2)).contains("THREAD");
    assertThat(failedWith(cli().run("--timeout", "1x", "threads"), 2)).contains("'1x' is not a duration");
    assertThat(failedWith(cli().run("--as", "a", "send", "t", "x", "--role", "robot"), 2))
        .contains("'robot' is not a role");
    assertThat(failedWith(cli().run("--as", "a", "--token", "jwt", "threads"), 2)).contains("exclude each other");
    assertThat(failedWith(CliProcess.java().env("MESSAGESTORE_TARGET", target).run("--as", "a", "threads"), 2))
        .contains("MESSAGESTORE_JWT_SECRET");
    assertThat(failedWith(cli().run("--as", "a", "--admin", "admin", "replay"), 2)).contains("--all");
    assertThat(failedWith(cli().run("--token-file", "/nonexistent/token", "threads"), 2))
        .contains("/nonexistent/token");
  }

  // --- consistency ---

  @Test
  void adminCheckPrintsTheScoreAndEachFindingAndRepairsWhenAsked() throws Exception {
    String thread = thread();
    String alice = user();
    succeeded(cli().run("--as", alice, "send", thread, "first"));
    String id = succeeded(cli().run("--as", alice, "send", thread, "second")).stdout().split("\\s+")[0];
    io.messagestore.server.testing.Poll.until(java.time.Duration.ofSeconds(30), "both messages in PostgreSQL", () -> {
      try {
        return io.messagestore.server.testing.Databases.count(TestGateway.settings(java.util.Map.of()),
            "SELECT count(*) FROM messages WHERE thread_id = ?", thread) == 2;
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    });

    assertThat(succeeded(cli().run("--as", "ops", "--admin", "admin", "check", "--thread", thread)).stdout())
        .isEqualTo("checked 2 messages, score 1.0000\n");

    try (java.sql.Connection c = gateway.postgres();
        java.sql.PreparedStatement ps = c.prepareStatement("UPDATE messages SET content = 'forged' WHERE message_id = ?::uuid")) {
      ps.setString(1, id);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    // The lag budget (30 s by default) does not matter here: the message has its PostgreSQL row.
    Result found = succeeded(cli().run("--as", "ops", "--admin", "admin", "check", "--thread", thread,
        "--message", id, "--repair"));
    assertThat(found.lines()).first().isEqualTo("checked 1 messages, score 0.0000");
    assertThat(found.stdout()).contains("content_mismatch", id, "yes", "postgres differs from redis");

    assertThat(succeeded(cli().run("--as", "ops", "--admin", "admin", "check", "--thread", thread)).stdout())
        .isEqualTo("checked 2 messages, score 1.0000\n");
    assertThat(failedWith(cli().run("--as", "ops", "--admin", "admin", "check", "--thread", thread, "--from",
        "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"), 2)).contains("give --thread");
  }

  // --- run state ---

  @Test
  void runStatePutAndGetWorkAgainstTheGatewayWithCompareAndSetAndHistory(@TempDir Path dir) throws Exception {
    String run = "cli-run-" + UUID.randomUUID().toString().substring(0, 8);
    String alice = user();

    assertThat(succeeded(cli().run("--as", alice, "run-state", "put", run, "{\"step\":1}", "--checkpoint", "full"))
        .stdout()).isEqualTo("run " + run + " at version 1, acknowledged by postgres\n");
    Path file = dir.resolve("state.json");
    Files.writeString(file, "{\"step\":2}");
    PutRunStateResponse second = parse(succeeded(cli().run("--as", alice, "-o", "json", "run-state", "put", run,
        "--state-file", file.toString(), "--expected-version", "1", "--checkpoint", "full", "--ttl", "persistent"))
        .stdout(), PutRunStateResponse::newBuilder);
    assertThat(second.getRunState().getVersion()).isEqualTo(2);
    assertThat(second.getRunState().getTtlClass()).isEqualTo(TtlClass.PERSISTENT);
    assertThat(failedWith(cli().runWithInput("{}", "--as", alice, "run-state", "put", run, "--expected-version", "1"),
        1)).startsWith("ABORTED: run '" + run + "' is at version 2, not expected_version 1");

    Result latest = succeeded(cli().run("--as", alice, "run-state", "get", run));
    assertThat(latest.lines()).contains("run_id       " + run, "version      2", "ttl_class    persistent",
        "served_from  redis", "{\"step\":2}");
    assertThat(succeeded(cli().run("--as", alice, "run-state", "get", run, "--version", "1", "--raw")).stdout())
        .isEqualTo("{\"step\":1}");
    GetRunStateResponse old = parse(succeeded(cli().run("--as", alice, "-o", "json", "run-state", "get", run,
        "--version", "1")).stdout(), GetRunStateResponse::newBuilder);
    assertThat(old.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(failedWith(cli().run("--as", user(), "run-state", "get", run), 1)).startsWith("PERMISSION_DENIED");
    assertThat(failedWith(cli().run("--as", alice, "run-state", "get", "no-such-run"), 1)).startsWith("NOT_FOUND");
    assertThat(failedWith(cli().run("--as", alice, "run-state", "put", "bad run", "x"), 1))
        .startsWith("INVALID_ARGUMENT: run_id must be 1-128 characters");
  }

  @Test
  void watchPrintsEachNewMessageOnceAndEndsWhenTheThreadIsDeleted() throws Exception {
    String thread = thread();
    String alice = user();
    SendMessageResponse one = parse(succeeded(cli().run("--as", alice, "-o", "json", "send", thread, "one")).stdout(),
        SendMessageResponse::newBuilder);
    String first = one.getMessage().getMessageId();
    CompletableFuture<Result> watching = CompletableFuture.supplyAsync(
        () -> cli().run("--as", alice, "-o", "json", "watch", thread, "--after", first));
    Counter confirmed = gateway.gateway().meters().get("messagestore.watch.events").tag("type", "message_confirmed")
        .counter();
    double before = confirmed.count();
    SendMessageResponse two = parse(succeeded(cli().run("--as", alice, "-o", "json", "send", thread, "two")).stdout(),
        SendMessageResponse::newBuilder);
    String second = two.getMessage().getMessageId();
    Poll.until(Duration.ofSeconds(30), "the watch to pass on the second message", () -> confirmed.count() > before);

    succeeded(cli().run("--as", alice, "delete", thread));

    Result watched = succeeded(watching.get(30, TimeUnit.SECONDS));
    assertThat(watched.lines()).hasSizeGreaterThanOrEqualTo(2);
    assertThat(watched.lines().get(0)).contains("MESSAGE_CONFIRMED").contains(second).contains("\"two\"");
    assertThat(watched.stdout()).doesNotContain(first);
    assertThat(watched.lines()).last().asString().contains("THREAD_DELETED");
  }

  @Test
  void healthAnswersWithoutATokenAndFailsForAnUnknownService() {
    CliProcess anonymous = CliProcess.java().env("MESSAGESTORE_TARGET", target);

    assertThat(succeeded(anonymous.run("health")).stdout()).isEqualTo("SERVING\n");
    assertThat(succeeded(anonymous.run("health", "messagestore.postgres")).stdout()).isEqualTo("SERVING\n");
    assertThat(failedWith(anonymous.run("health", "no.such.service"), 1)).startsWith("NOT_FOUND");
  }

  @Test
  void statsCountTheThreadOnceItsAnalyticsHaveArrivedAndDeleteErasesIt() throws Exception {
    String thread = thread();
    String alice = user();
    succeeded(cli().run("--as", alice, "send", thread, "one", "--durable"));
    succeeded(cli().run("--as", alice, "send", thread, "two", "--durable", "--role", "assistant"));

    io.messagestore.server.testing.Poll.until(java.time.Duration.ofSeconds(90), "the thread's analytics", () ->
        cli().run("--as", alice, "-o", "json", "stats", thread).stdout().contains("\"message_count\":\"2\""));
    Result text = succeeded(cli().run("--as", alice, "stats", thread));
    assertThat(text.lines()).contains("message_count        2", "  user               1", "  assistant          1",
        "total_content_bytes  6");

    assertThat(failedWith(cli().run("--as", user(), "delete", thread), 1)).startsWith("PERMISSION_DENIED: ");
    Result deleted = succeeded(cli().run("--as", alice, "delete", thread));
    assertThat(deleted.stdout()).isEqualTo("deleted thread " + thread + " (2 messages)\n");
    assertThat(succeeded(cli().run("--as", alice, "list", thread)).lines()).hasSize(1);
    assertThat(failedWith(cli().run("--as", alice, "delete", thread), 1)).startsWith("NOT_FOUND: ");
  }

  // --- admin ---

  @Test
  void adminStatusShowsEveryTier() {
    Result text = succeeded(cli().run("--as", "ops", "--admin", "admin", "status"));
    assertThat(text.lines().get(0)).startsWith("TIER").contains("REACHABLE", "READ_BREAKER");
    assertThat(text.stdout()).contains("redis ", "postgres ", "clickhouse ", "stream_backlog");

    GetTierStatusResponse json = parse(succeeded(cli().run("--as", "ops", "--admin", "-o", "json", "admin", "status"))
        .stdout(), GetTierStatusResponse::newBuilder);
    assertThat(json.getTiersList()).extracting(t -> t.getTier())
        .containsExactly(Tier.TIER_REDIS, Tier.TIER_POSTGRES, Tier.TIER_CLICKHOUSE);
  }

  @Test
  void adminCommandsNeedTheAdminRole() {
    assertThat(failedWith(cli().run("--as", user(), "admin", "status"), 1)).startsWith("PERMISSION_DENIED: ");
  }

  @Test
  void adminRebuildWaitsForItsJobToFinish() {
    String thread = thread();
    String alice = user();
    succeeded(cli().run("--as", alice, "send", thread, "x", "--durable"));

    Result rebuild = succeeded(cli().run("--as", "ops", "--admin", "admin", "rebuild", thread, "--wait"));

    assertThat(rebuild.lines().get(0)).startsWith("cache rebuild job ").endsWith(" started");
    assertThat(rebuild.lines().get(rebuild.lines().size() - 1)).contains("DONE, 1/1 threads, 1 messages");
  }

  @Test
  void adminDeadLettersAndReplayAnswer() {
    Result listed = succeeded(cli().run("--as", "ops", "--admin", "admin", "dead-letters", "--limit", "5"));
    assertThat(listed.lines().get(0)).startsWith("ENTRY_ID").contains("LAST_ERROR");

    Result replayed = succeeded(cli().run("--as", "ops", "--admin", "admin", "replay", "0-1"));
    assertThat(replayed.stdout()).isEqualTo("replayed 0 dead letters\n");
  }
}
