package io.messagestore.cli;

import io.messagestore.cli.command.AdminCommand;
import io.messagestore.cli.command.DeleteCommand;
import io.messagestore.cli.command.GetCommand;
import io.messagestore.cli.command.HealthCommand;
import io.messagestore.cli.command.ListCommand;
import io.messagestore.cli.command.RunStateCommand;
import io.messagestore.cli.command.SendBatchCommand;
import io.messagestore.cli.command.SendCommand;
import io.messagestore.cli.command.StatsCommand;
import io.messagestore.cli.command.ThreadsCommand;
import io.messagestore.cli.command.WatchCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code messagestore}: every RPC of the MessageStore API from a shell, built on the client SDK.
 *
 * <p>Exit codes: 0 when the call succeeded, 1 when it failed (the gRPC status and the server's
 * description on one line of stderr), 2 for bad usage. Connection and output options are
 * global: they may come before or after the subcommand ({@link GlobalOptions}).
 */
@Command(name = "messagestore", mixinStandardHelpOptions = true, version = "messagestore 0.1.0",
    subcommands = {SendCommand.class, SendBatchCommand.class, GetCommand.class, ListCommand.class,
        ThreadsCommand.class, WatchCommand.class, DeleteCommand.class, StatsCommand.class,
        RunStateCommand.class, AdminCommand.class, HealthCommand.class,
        CommandLine.HelpCommand.class},
    description = {"Command-line client of the MessageStore gateway.", "",
        "Examples:",
        "  messagestore send demo 'hello'",
        "  messagestore list demo --newest-first --limit 20",
        "  messagestore -o json get demo 0193...",
        "  messagestore watch demo",
        ""},
    footer = {"", "Exit codes: 0 ok, 1 the call failed (gRPC status and description on stderr), "
        + "2 bad usage."})
public final class MessageStoreCli extends GlobalOptions implements Runnable {

  /** Exit code of a call the server (or the connection) failed. */
  public static final int EXIT_CALL_FAILED = 1;
  /** Exit code of a command line that could not be used. */
  public static final int EXIT_USAGE = 2;

  @Spec
  CommandSpec spec;

  public MessageStoreCli(Map<String, String> environment) {
    super(environment);
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }

  /** The configured command line, for {@link #main} and for tests that run it in-process. */
  public static CommandLine commandLine(Map<String, String> environment) {
    Objects.requireNonNull(environment, "environment");
    CommandLine commandLine = new CommandLine(new MessageStoreCli(environment));
    commandLine.setOut(new PrintWriter(System.out, true, StandardCharsets.UTF_8));
    commandLine.setErr(new PrintWriter(System.err, true, StandardCharsets.UTF_8));
    commandLine.setParameterExceptionHandler(new UsageErrors());
    commandLine.setExecutionExceptionHandler(new CallErrors());
    return commandLine;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }
}
