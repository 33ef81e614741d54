package io.messagestore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every example runs against a real gateway as the README shows it and prints what it says. */
class ExamplesTest {
  private static TestGateway gateway;
  private static String target;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
    target = "127.0.0.1:" + gateway.gateway().port();
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static String run(ThrowingMain main, String... args) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      main.run(args);
    } finally {
      System.setOut(original);
    }
    // The gateway runs in this JVM and logs to the same System.out: keep the example's lines.
    StringBuilder printed = new StringBuilder();
    out.toString(StandardCharsets.UTF_8).lines()
        .filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d+ .*"))
        .forEach(l -> printed.append(l).append('\n'));
    return printed.toString();
  }

  interface ThrowingMain {
    void run(String[] args) throws Exception;
  }

  private static String thread() {
    return "example-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void sendAndReadPrintsTheThread() throws Exception {
    String out = run(SendAndRead::main, target, Tokens.user("ex"), thread());
    assertThat(out).isEqualTo("ROLE_USER: hello\nROLE_ASSISTANT: hi, stored in PostgreSQL\n");
  }

  @Test
  void asyncSendsReadTheLastBack() throws Exception {
    assertThat(run(AsyncSends::main, target, Tokens.user("ex"), thread()))
        .isEqualTo("sent 10, the last reads back as: message 9\n");
  }

  @Test
  void theWatchPrintsWhatCameAfterItsStart() throws Exception {
    String thread = thread();
    String token = Tokens.user("ex");
    run(SendAndRead::main, target, token, thread);
    String first = gateway.as("ex").listMessages(io.messagestore.api.v1.ListMessagesRequest.newBuilder()
        .setThreadId(thread).build()).getMessages(0).getMessageId();
    assertThat(run(WatchThread::main, target, token, thread, first, "1"))
        .startsWith("MESSAGE_CONFIRMED ").contains("hi, stored in PostgreSQL");
  }

  @Test
  void theRunStateCounterCountsEachRun() throws Exception {
    String run = "example-run-" + UUID.randomUUID().toString().substring(0, 8);
    run(RunStateCounter::main, target, Tokens.user("ex"), run);
    assertThat(run(RunStateCounter::main, target, Tokens.user("ex"), run))
        .isEqualTo("run " + run + " is at version 2, steps = 2\n");
  }

  @Test
  void retrySettingsSendAndReportTheCall() throws Exception {
    assertThat(run(RetrySettings::main, target, Tokens.user("ex"), thread()))
        .contains("messagestore.client.calls").contains("rpc=SendMessage").contains("status=OK");
  }
}
