package io.messagestore.cli.command;

import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "send", description = {"Store one message in a thread.",
    "The content comes from the argument, or else from standard input (one trailing line break "
        + "dropped)."})
public final class SendCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id (1-128 of A-Z a-z 0-9 . _ : -).")
  String threadId;

  @Parameters(index = "1", arity = "0..1", paramLabel = "CONTENT", description = "Message text.")
  String content;

  @Option(names = "--role", converter = RoleConverter.class, paramLabel = "ROLE",
      description = "user (default), assistant, system, tool or agent.")
  Role role = Role.ROLE_USER;

  @Option(names = "--durable",
      description = "Answer after the PostgreSQL commit instead of after Redis.")
  boolean durable;

  @Option(names = "--idempotency-key", paramLabel = "KEY",
      description = "Repeating a key stores the message once (default: a random key per call).")
  String idempotencyKey;

  @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Metadata entry (repeatable).")
  Map<String, String> metadata = new LinkedHashMap<>();

  @Override
  void run(MessageStoreClient client, Output out) {
    String text = content;
    if (text == null) {
      Stdin.hintIfTerminal(spec.commandLine().getErr(), "the message");
      text = Stdin.readAll(System.in);
    }
    SendMessageRequest.Builder request = SendMessageRequest.newBuilder()
        .setThreadId(threadId)
        .setRole(role)
        .setContent(text)
        .putAllMetadata(metadata)
        .setDurability(durable ? Durability.DURABILITY_DURABLE : Durability.DURABILITY_CACHE);
    if (idempotencyKey != null) {
      request.setIdempotencyKey(idempotencyKey);
    }
    SendMessageResponse response = client.send(request.build());
    if (out.json()) {
      out.json(response);
    } else {
      out.line(sent(response));
    }
  }

  /** {@code <id>  acknowledged by redis[, duplicate][, failover: reason]}. */
  static String sent(SendMessageResponse response) {
    StringBuilder line = new StringBuilder(response.getMessage().getMessageId())
        .append("  acknowledged by ").append(Output.tier(response.getAcknowledgedBy()));
    if (response.getDuplicate()) {
      line.append(", duplicate (stored earlier with this idempotency key)");
    }
    if (!response.getFailoverReason().isEmpty()) {
      line.append(", failover: ").append(response.getFailoverReason());
    }
    return line.toString();
  }
}
