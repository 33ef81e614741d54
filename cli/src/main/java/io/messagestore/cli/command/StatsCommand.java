package io.messagestore.cli.command;

import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "stats", description = "Analytics of one thread: counts by role, bytes, first and last message.")
public final class StatsCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Override
  void run(MessageStoreClient client, Output out) {
    GetThreadStatsResponse stats = client.threadStats(threadId);
    if (out.json()) {
      out.json(stats);
      return;
    }
    out.line("thread_id            " + stats.getThreadId());
    out.line("message_count        " + stats.getMessageCount());
    stats.getMessagesByRoleMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.line(String.format("  %-18s %d", e.getKey().replaceFirst("^ROLE_", "")
            .toLowerCase(java.util.Locale.ROOT), e.getValue())));
    out.line("total_content_bytes  " + stats.getTotalContentBytes());
    out.line("first_message_at     " + Output.time(stats.getFirstMessageAt()));
    out.line("last_message_at      " + Output.time(stats.getLastMessageAt()));
  }
}
