package io.messagestore.cli.command;

import io.messagestore.api.v1.Message;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.util.Iterator;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "list", description = {"List a thread's messages in order.",
    "Oldest first unless --newest-first; every page of the thread, or the first --limit messages.",
    "Text output writes line breaks in content as \\n, so one message is one row."})
public final class ListCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Option(names = "--limit", paramLabel = "N", description = "Stop after N messages.")
  Integer limit;

  @Option(names = "--newest-first", description = "Newest message first.")
  boolean newestFirst;

  @Option(names = "--page-size", paramLabel = "N",
      description = "Messages per ListMessages call, 1-1000 (default: 100, or --limit if smaller).")
  Integer pageSize;

  @Override
  int pageSize() {
    if (limit != null && limit < 1) {
      throw usage("--limit must be at least 1, got " + limit);
    }
    if (pageSize != null) {
      return pageSize;
    }
    return limit == null ? super.pageSize() : Math.min(limit, 1000);
  }

  @Override
  void run(MessageStoreClient client, Output out) {
    Stream<Message> messages = client.messages(threadId, newestFirst);
    if (limit != null) {
      messages = messages.limit(limit);
    }
    Iterator<Message> rows = messages.iterator();
    // Fetching the first page before the header keeps a failed call's stdout empty.
    rows.hasNext();
    if (out.json()) {
      rows.forEachRemaining(out::json);
      return;
    }
    Output.Columns table = out.columns(new int[] {24, 9, 36}, "CREATED_AT", "ROLE", "MESSAGE_ID", "CONTENT");
    rows.forEachRemaining(m -> table.row(Output.time(m.getCreatedAt()), Output.role(m.getRole()),
        m.getMessageId(), Output.oneLine(m.getContent())));
  }
}
