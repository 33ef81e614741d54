package io.messagestore.cli.command;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.MessageStoreException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "send-batch", description = {
    "Store messages read from standard input, one JSON object per line.",
    "Each line is a SendMessageRequest in protobuf JSON, e.g.",
    "  {\"role\":\"ROLE_ASSISTANT\",\"content\":\"hi\",\"metadata\":{\"k\":\"v\"}}",
    "Blank lines are skipped; a line without a role gets --role. Each group of up to --batch-size "
        + "lines is one SendMessageBatch: stored all or none, in order."})
public final class SendBatchCommand extends ClientCommand {
  /** The most messages one SendMessageBatch takes. */
  static final int MAX_BATCH = 500;

  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Option(names = "--role", converter = RoleConverter.class, paramLabel = "ROLE",
      description = "Role of lines that give none: user (default), assistant, system, tool, agent.")
  Role role = Role.ROLE_USER;

  @Option(names = "--durable", description = "Answer after the PostgreSQL commit.")
  boolean durable;

  @Option(names = "--batch-size", paramLabel = "N",
      description = "Messages per SendMessageBatch call, 1-500 (default: 500).")
  int batchSize = MAX_BATCH;

  @Override
  void run(MessageStoreClient client, Output out) {
    if (batchSize < 1 || batchSize > MAX_BATCH) {
      throw usage("--batch-size must be between 1 and " + MAX_BATCH + ", got " + batchSize);
    }
    List<SendMessageRequest> requests = read(Stdin.lines(System.in));
    if (requests.isEmpty()) {
      throw usage("standard input held no messages (one JSON object per line)");
    }
    Durability durability = durable ? Durability.DURABILITY_DURABLE : Durability.DURABILITY_CACHE;
    int stored = 0;
    for (int from = 0; from < requests.size(); from += batchSize) {
      List<SendMessageRequest> batch = requests.subList(from, Math.min(requests.size(), from + batchSize));
      List<SendMessageResponse> results;
      try {
        results = client.sendBatch(threadId, batch, durability);
      } catch (MessageStoreException e) {
        if (stored > 0) {
          spec.commandLine().getErr().println("send-batch: the first " + stored
              + " messages were stored; lines " + (from + 1) + "-" + (from + batch.size())
              + " were not");
        }
        throw e;
      }
      for (SendMessageResponse result : results) {
        if (out.json()) {
          out.json(result);
        } else {
          out.line(SendCommand.sent(result));
        }
      }
      stored += results.size();
    }
  }

  private List<SendMessageRequest> read(BufferedReader lines) {
    List<SendMessageRequest> requests = new ArrayList<>();
    JsonFormat.Parser parser = JsonFormat.parser();
    int lineNumber = 0;
    try {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        SendMessageRequest.Builder request = SendMessageRequest.newBuilder();
        try {
          parser.merge(line, request);
        } catch (InvalidProtocolBufferException e) {
          throw usage("line " + lineNumber + " is not a SendMessageRequest in JSON: " + e.getMessage());
        }
        if (request.getRole() == Role.ROLE_UNSPECIFIED) {
          request.setRole(role);
        }
        requests.add(request.build());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read standard input", e);
    }
    return requests;
  }
}
