package io.messagestore.cli.command;

import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "get", description = "Read one message, from the highest tier that has it.")
public final class GetCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Parameters(index = "1", paramLabel = "MESSAGE_ID", description = "Message id (a UUID).")
  String messageId;

  @Override
  void run(MessageStoreClient client, Output out) {
    GetMessageResponse response = client.getMessage(threadId, messageId);
    if (out.json()) {
      out.json(response);
      return;
    }
    Message m = response.getMessage();
    out.line("message_id   " + m.getMessageId());
    out.line("thread_id    " + m.getThreadId());
    out.line("user_id      " + m.getUserId());
    out.line("role         " + Output.role(m.getRole()));
    out.line("created_at   " + Output.time(m.getCreatedAt()));
    if (m.getMetadataCount() > 0) {
      out.line("metadata     " + Output.metadata(m.getMetadataMap()));
    }
    out.line("served_from  " + Output.tier(response.getServedFrom()));
    out.line("");
    out.line(m.getContent());
  }
}
