package io.messagestore.cli.command;

import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.ThreadWatch;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "watch", description = {"Print a thread's events as they happen.",
    "Runs until the thread is deleted or Ctrl-C.",
    "With --after, first the messages after that id. A broken stream is resumed after the last "
        + "message printed, so nothing is missed or printed twice (reconnects are noted on stderr)."})
public final class WatchCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "THREAD", description = "Thread id.")
  String threadId;

  @Option(names = "--after", paramLabel = "MESSAGE_ID",
      description = "Replay the messages after this id first (default: live events only).")
  String after = "";

  @Override
  void run(MessageStoreClient client, Output out) {
    PrintWriter err = spec.commandLine().getErr();
    try (ThreadWatch watch = client.watch(threadId, after)) {
      watch.onReconnect(e -> {
        err.println("watch: stream lost (" + e.getCode() + "), resuming"
            + (watch.lastConfirmedMessageId() == null ? "" : " after " + watch.lastConfirmedMessageId()));
        err.flush();
      });
      // Ctrl-C ends the JVM; closing the watch first cancels the stream cleanly.
      Thread closer = new Thread(watch::close, "watch-close");
      Runtime.getRuntime().addShutdownHook(closer);
      while (watch.hasNext()) {
        ThreadEvent event = watch.next();
        if (out.json()) {
          out.json(event);
        } else {
          out.line(text(event));
        }
      }
    }
  }

  static String text(ThreadEvent event) {
    String type = event.getType().name().replaceFirst("^MESSAGE_", "").toLowerCase(java.util.Locale.ROOT);
    StringBuilder line = new StringBuilder(Output.time(event.getOccurredAt())).append("  ")
        .append(String.format("%-9s", type));
    if (!event.getMessageId().isEmpty()) {
      line.append("  ").append(event.getMessageId());
    }
    if (event.hasMessage()) {
      line.append("  ").append(Output.role(event.getMessage().getRole())).append(": ")
          .append(Output.oneLine(event.getMessage().getContent()));
    }
    return line.toString();
  }
}
