package io.messagestore.cli.command;

import io.messagestore.api.v1.DeleteThreadResponse;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "delete", description = "Remove a thread and all its messages from every tier.")
public final class DeleteCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Override
  void run(MessageStoreClient client, Output out) {
    long deleted = client.deleteThread(threadId);
    if (out.json()) {
      out.json(DeleteThreadResponse.newBuilder().setDeletedMessages(deleted).build());
    } else {
      out.line("deleted thread " + threadId + " (" + deleted + " messages)");
    }
  }
}
