package io.messagestore.cli.command;

import com.google.protobuf.ByteString;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TtlClass;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run-state", description = "Read or write the versioned state of an agent run.",
    subcommands = {RunStateCommand.Get.class, RunStateCommand.Put.class})
public final class RunStateCommand {

  @Command(name = "get", description = "Print a run's state: the latest version, or --version N.")
  static final class Get extends ClientCommand {
    @Parameters(index = "0", paramLabel = "RUN_ID", description = "Run id.")
    String runId;

    @Option(names = "--version", paramLabel = "N",
        description = "A version kept by CHECKPOINT_FULL (default: the latest).")
    long version;

    @Option(names = "--raw", description = "Write only the state bytes, unchanged, to standard output.")
    boolean raw;

    @Override
    void run(MessageStoreClient client, Output out) throws IOException {
      if (version < 0) {
        throw usage("--version must not be negative, got " + version);
      }
      GetRunStateResponse response = client.getRunState(runId, version);
      if (raw) {
        response.getRunState().getState().writeTo(System.out);
        System.out.flush();
      } else if (out.json()) {
        out.json(response);
      } else {
        print(response.getRunState(), response.getServedFrom(), out);
      }
    }
  }

  @Command(name = "put", description = {"Write a run's state: from the argument, --state-file, "
      + "or else standard input (bytes as they are).",
      "With --expected-version N the write applies only if the run is at version N "
          + "(else ABORTED, exit 1)."})
  static final class Put extends ClientCommand {
    @Parameters(index = "0", paramLabel = "RUN_ID", description = "Run id.")
    String runId;

    @Parameters(index = "1", arity = "0..1", paramLabel = "STATE", description = "The state, as text.")
    String state;

    @Option(names = "--state-file", paramLabel = "FILE", description = "Read the state from FILE.")
    Path stateFile;

    @Option(names = "--thread", paramLabel = "THREAD", description = "The thread the run works on.")
    String threadId = "";

    @Option(names = "--expected-version", paramLabel = "N",
        description = "Compare-and-set: write only if the current version is N (default 0: always).")
    long expectedVersion;

    @Option(names = "--checkpoint", paramLabel = "POLICY",
        description = "none (default), auto, critical or full: how eagerly PostgreSQL gets the state.")
    String checkpoint = "none";

    @Option(names = "--ttl", paramLabel = "CLASS",
        description = "temporary, checkpoint (default) or persistent: how long Redis keeps it.")
    String ttl = "checkpoint";

    @Option(names = "--completed", description = "The run is finished.")
    boolean completed;

    @Override
    void run(MessageStoreClient client, Output out) {
      if (state != null && stateFile != null) {
        throw usage("give the state as an argument or with --state-file, not both");
      }
      PutRunStateRequest request = PutRunStateRequest.newBuilder()
          .setRunId(runId)
          .setThreadId(threadId)
          .setState(stateBytes())
          .setExpectedVersion(expectedVersion)
          .setCheckpoint(enumValue(Checkpoint.class, "CHECKPOINT_", checkpoint, "--checkpoint"))
          .setTtlClass(enumValue(TtlClass.class, "", ttl, "--ttl"))
          .setCompleted(completed)
          .build();
      PutRunStateResponse response = client.putRunState(request);
      if (out.json()) {
        out.json(response);
      } else {
        out.line("run " + runId + " at version " + response.getRunState().getVersion()
            + ", acknowledged by " + Output.tier(response.getAcknowledgedBy()));
      }
    }

    private ByteString stateBytes() {
      if (state != null) {
        return ByteString.copyFromUtf8(state);
      }
      try {
        if (stateFile != null) {
          return ByteString.copyFrom(Files.readAllBytes(stateFile));
        }
        Stdin.hintIfTerminal(spec.commandLine().getErr(), "the state");
        return ByteString.readFrom(System.in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the state" + (stateFile == null ? "" : " from " + stateFile), e);
      }
    }

    private <E extends Enum<E>> E enumValue(Class<E> type, String prefix, String value, String option) {
      String name = prefix + value.trim().toUpperCase(java.util.Locale.ROOT);
      try {
        E parsed = Enum.valueOf(type, name.startsWith(prefix + prefix) ? name.substring(prefix.length()) : name);
        if (!parsed.name().endsWith("UNSPECIFIED") && !parsed.name().equals("UNRECOGNIZED")) {
          return parsed;
        }
      } catch (IllegalArgumentException unknown) {
        // falls through to the usage error
      }
      throw usage(option + ": '" + value + "' is not one of " + choices(type, prefix));
    }

    private static <E extends Enum<E>> String choices(Class<E> type, String prefix) {
      return java.util.Arrays.stream(type.getEnumConstants())
          .map(Enum::name)
          .filter(n -> !n.endsWith("UNSPECIFIED") && !n.equals("UNRECOGNIZED"))
          .map(n -> n.substring(prefix.length()).toLowerCase(java.util.Locale.ROOT))
          .collect(java.util.stream.Collectors.joining(", "));
    }
  }

  static void print(RunState run, Tier servedFrom, Output out) {
    out.line("run_id       " + run.getRunId());
    if (!run.getThreadId().isEmpty()) {
      out.line("thread_id    " + run.getThreadId());
    }
    out.line("user_id      " + run.getUserId());
    out.line("version      " + run.getVersion());
    out.line("completed    " + run.getCompleted());
    out.line("ttl_class    " + run.getTtlClass().name().toLowerCase(java.util.Locale.ROOT));
    out.line("updated_at   " + Output.time(run.getUpdatedAt()));
    out.line("served_from  " + Output.tier(servedFrom));
    out.line("");
    out.line(readable(run.getState()));
  }

  /** The state as text when it is UTF-8 (usually JSON), else its size and base64. */
  static String readable(ByteString state) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(state.toByteArray()))
          .toString();
    } catch (CharacterCodingException notText) {
      return "(" + state.size() + " bytes, base64) " + Base64.getEncoder().encodeToString(state.toByteArray());
    }
  }
}
