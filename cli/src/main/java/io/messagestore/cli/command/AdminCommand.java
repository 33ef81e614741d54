package io.messagestore.cli.command;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.ArchiverStatus;
import io.messagestore.api.v1.CacheRebuildStatus;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.ErasureStatus;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.Inconsistency;
import io.messagestore.api.v1.RebuildCacheResponse;
import io.messagestore.api.v1.ReplayDeadLettersResponse;
import io.messagestore.api.v1.TierStatus;
import io.messagestore.cli.CommandFailedException;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreAdminClient;
import io.messagestore.client.MessageStoreClient;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "admin", description = "Operator calls (MessageStoreAdmin); the token needs the admin role.",
    subcommands = {AdminCommand.Status.class, AdminCommand.DeadLetters.class, AdminCommand.Replay.class,
        AdminCommand.Rebuild.class, AdminCommand.Check.class})
public final class AdminCommand {

  @Command(name = "status", description = "Tiers, breakers, backlog, dead letters and cache rebuild jobs.")
  static final class Status extends ClientCommand {
    @Override
    void run(MessageStoreClient client, Output out) {
      GetTierStatusResponse status = client.admin().tierStatus();
      if (out.json()) {
        out.json(status);
        return;
      }
      out.table(List.of("TIER", "REACHABLE", "READ_BREAKER", "WRITE_BREAKER", "PROBE", "DETAIL"),
          status.getTiersList().stream().map(Status::row).toList());
      for (TierStatus tier : status.getTiersList()) {
        tier.getWarningsList().forEach(w -> out.line("warning (" + Output.tier(tier.getTier()) + "): " + w));
      }
      out.line("");
      out.line("stream_backlog                 " + status.getStreamBacklog());
      out.line("oldest_pending_age             " + status.getOldestPendingAgeMillis() + " ms");
      out.line("dead_letters                   " + status.getDeadLetters());
      out.line("threads_awaiting_redis_repair  " + status.getThreadsAwaitingRedisRepair());
      for (CacheRebuildStatus job : status.getCacheRebuildsList()) {
        out.line("cache rebuild " + Rebuild.progress(job));
      }
      ArchiverStatus archiver = status.getArchiver();
      out.line("archiver                       " + (archiver.getEnabled() ? "on" : "off")
          + (archiver.getHolder().isEmpty() ? "" : ", lease held by " + archiver.getHolder()));
      if (archiver.hasLastRunAt()) {
        out.line("archiver last run              " + Output.time(archiver.getLastRunAt()) + ", "
            + archiver.getLastRunMessages() + " messages"
            + (archiver.getLastError().isEmpty() ? "" : ", error: " + Output.oneLine(archiver.getLastError())));
      }
      out.line("archive backlog                " + archiver.getBacklog());
      out.line("analytics backlog              " + archiver.getAnalyticsBacklog());
      for (ErasureStatus erasure : status.getPendingErasuresList()) {
        out.line("erasing in clickhouse          " + erasure.getThreadId() + " (" + erasure.getState() + ", since "
            + Output.time(erasure.getErasedAt()) + ")"
            + (erasure.getLastError().isEmpty() ? "" : ": " + Output.oneLine(erasure.getLastError())));
      }
    }

    private static List<String> row(TierStatus tier) {
      return List.of(Output.tier(tier.getTier()), tier.getReachable() ? "yes" : "NO",
          tier.getReadBreakerState(), tier.getWriteBreakerState(),
          String.format("%.1f ms", tier.getProbeLatencyMicros() / 1000.0), Output.oneLine(tier.getDetail()));
    }
  }

  @Command(name = "dead-letters", description = "List the entries the persisters gave up on, oldest first.")
  static final class DeadLetters extends ClientCommand {
    @Option(names = "--limit", paramLabel = "N", description = "Show at most N entries.")
    Integer limit;

    @Override
    void run(MessageStoreClient client, Output out) {
      if (limit != null && limit < 1) {
        throw usage("--limit must be at least 1, got " + limit);
      }
      Stream<DeadLetter> entries = client.admin().deadLetters();
      if (limit != null) {
        entries = entries.limit(limit);
      }
      if (out.json()) {
        entries.forEach(out::json);
        return;
      }
      List<List<String>> rows = entries.map(d -> List.of(d.getEntryId(), d.getThreadId(), d.getMessageId(),
          Long.toString(d.getDeliveryCount()), Output.time(d.getDeadLetteredAt()),
          Output.oneLine(d.getLastError()))).toList();
      out.table(List.of("ENTRY_ID", "THREAD", "MESSAGE_ID", "DELIVERIES", "DEAD_LETTERED_AT", "LAST_ERROR"), rows);
    }
  }

  @Command(name = "replay", description = "Put dead letters back on the persistence stream: the given "
      + "entry ids, or every one with --all.")
  static final class Replay extends ClientCommand {
    @Parameters(arity = "0..*", paramLabel = "ENTRY_ID", description = "Dead-letter entry ids.")
    List<String> entryIds = new ArrayList<>();

    @Option(names = "--all", description = "Replay every dead letter.")
    boolean all;

    @Override
    void run(MessageStoreClient client, Output out) {
      if (all == !entryIds.isEmpty()) {
        throw usage("name the entries to replay, or give --all (not both)");
      }
      MessageStoreAdminClient admin = client.admin();
      long replayed = all ? admin.replayAllDeadLetters() : admin.replayDeadLetters(entryIds);
      if (out.json()) {
        out.json(ReplayDeadLettersResponse.newBuilder().setReplayed(replayed).build());
      } else {
        out.line("replayed " + replayed + " dead letters");
      }
    }
  }

  @Command(name = "rebuild", description = "Warm Redis from PostgreSQL: one thread, or the --recent N "
      + "most recently active ones, as a background job.")
  static final class Rebuild extends ClientCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "THREAD", description = "Thread id.")
    String threadId;

    @Option(names = "--recent", paramLabel = "N", description = "The N most recently active threads.")
    Integer recent;

    @Option(names = "--wait", description = "Wait until the job has finished, printing its progress.")
    boolean await;

    @Override
    void run(MessageStoreClient client, Output out) throws InterruptedException {
      if ((threadId == null) == (recent == null)) {
        throw usage("name a THREAD or give --recent N (not both)");
      }
      if (recent != null && recent < 1) {
        throw usage("--recent must be at least 1, got " + recent);
      }
      MessageStoreAdminClient admin = client.admin();
      String jobId = threadId != null ? admin.rebuildThread(threadId) : admin.rebuildRecentThreads(recent);
      if (out.json()) {
        out.json(RebuildCacheResponse.newBuilder().setJobId(jobId).build());
      } else {
        out.line("cache rebuild job " + jobId + " started");
      }
      if (await) {
        awaitJob(admin, jobId, out);
      }
    }

    private void awaitJob(MessageStoreAdminClient admin, String jobId, Output out) throws InterruptedException {
      String last = "";
      while (true) {
        Optional<CacheRebuildStatus> job = admin.tierStatus().getCacheRebuildsList().stream()
            .filter(j -> j.getJobId().equals(jobId)).findFirst();
        if (job.isEmpty()) {
          throw usage("job " + jobId + " is not known to this gateway instance (behind a load "
              + "balancer, its status is on the instance that started it)");
        }
        String now = progress(job.get());
        if (!now.equals(last)) {
          if (out.json()) {
            out.json(job.get());
          } else {
            out.line("cache rebuild " + now);
          }
          last = now;
        }
        String state = job.get().getState();
        if (state.startsWith("FAILED")) {
          throw new CommandFailedException("cache rebuild job " + jobId + " " + state);
        }
        if (!state.equals("RUNNING") && !state.equals("QUEUED")) {
          return;
        }
        // Polling an operator's one-off job: a quarter second keeps it responsive and cheap.
        Thread.sleep(Duration.ofMillis(250).toMillis());
      }
    }

    static String progress(CacheRebuildStatus job) {
      return job.getJobId() + ": " + job.getState() + ", " + job.getThreadsDone() + "/"
          + job.getThreadsTotal() + " threads, " + job.getMessagesLoaded() + " messages";
    }
  }

  @Command(name = "check", description = {"Compare the tiers for one message (--thread and "
      + "--message), one thread (--thread) or a time window of created_at (--from and --to).",
      "Exit code 0 even when inconsistencies are found; read the score."})
  static final class Check extends ClientCommand {
    @Option(names = "--thread", paramLabel = "THREAD", description = "Thread id.")
    String threadId;

    @Option(names = "--message", paramLabel = "MESSAGE_ID", description = "Message id (with --thread).")
    String messageId;

    @Option(names = "--from", paramLabel = "TIME", description = "Window start, ISO-8601 (2026-12-01T00:00:00Z).")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "Window end, ISO-8601.")
    String to;

    @Option(names = "--repair", description = "Repair what can be repaired.")
    boolean repair;

    @Override
    void run(MessageStoreClient client, Output out) {
      CheckConsistencyRequest.Builder request = CheckConsistencyRequest.newBuilder().setRepair(repair);
      boolean window = from != null || to != null;
      if (window == (threadId != null)) {
        throw usage("give --thread [--message], or --from and --to");
      }
      if (messageId != null && threadId == null) {
        throw usage("--message needs --thread");
      }
      if (window) {
        if (from == null || to == null) {
          throw usage("a window needs both --from and --to");
        }
        request.setWindowStart(timestamp(from, "--from")).setWindowEnd(timestamp(to, "--to"));
      } else {
        request.setThreadId(threadId);
        if (messageId != null) {
          request.setMessageId(messageId);
        }
      }
      CheckConsistencyResponse response = client.admin().checkConsistency(request.build());
      if (out.json()) {
        out.json(response);
        return;
      }
      out.line("checked " + response.getCheckedMessages() + " messages, score "
          + String.format("%.4f", response.getScore()));
      if (response.getInconsistenciesCount() > 0) {
        out.table(List.of("KIND", "THREAD", "MESSAGE_ID", "REPAIRED", "DETAIL"),
            response.getInconsistenciesList().stream().map(Check::row).toList());
      }
    }

    private static List<String> row(Inconsistency i) {
      return List.of(i.getKind(), i.getThreadId(), i.getMessageId(), i.getRepaired() ? "yes" : "no",
          Output.oneLine(i.getDetail()));
    }

    private Timestamp timestamp(String value, String option) {
      try {
        Instant instant = Instant.parse(value);
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
      } catch (DateTimeParseException e) {
        throw usage(option + ": '" + value + "' is not an ISO-8601 instant (e.g. 2026-12-01T00:00:00Z)");
      }
    }
  }
}
