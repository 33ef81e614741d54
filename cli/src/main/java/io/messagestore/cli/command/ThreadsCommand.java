package io.messagestore.cli.command;

import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "threads", description = "List your threads, most recently active first.")
public final class ThreadsCommand extends ClientCommand {
  @Option(names = "--limit", paramLabel = "N", description = "Show at most N threads.")
  Integer limit;

  @Override
  void run(MessageStoreClient client, Output out) {
    if (limit != null && limit < 1) {
      throw usage("--limit must be at least 1, got " + limit);
    }
    List<ThreadSummary> threads = client.threads();
    if (limit != null && threads.size() > limit) {
      threads = threads.subList(0, limit);
    }
    if (out.json()) {
      threads.forEach(out::json);
      return;
    }
    out.table(List.of("THREAD", "MESSAGES", "LAST_ACTIVITY_AT", "CREATED_AT", "OWNER"),
        threads.stream().map(t -> List.of(t.getThreadId(), Long.toString(t.getMessageCount()),
            Output.time(t.getLastActivityAt()), Output.time(t.getCreatedAt()), t.getUserId())).toList());
  }
}
