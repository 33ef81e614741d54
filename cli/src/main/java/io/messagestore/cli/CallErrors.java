package io.messagestore.cli;

import io.grpc.Status;
import io.messagestore.client.MessageStoreException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * A command that failed while running: a failed call prints {@code STATUS: description} on one
 * line of stderr and exits 1; a problem with what the user gave (a file that cannot be read, a
 * line that is not JSON) is bad usage and exits 2. Nothing prints a stack trace.
 */
final class CallErrors implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine command, ParseResult parseResult) {
    if (e instanceof MessageStoreException call) {
      String line = describe(call);
      if (call.getCode() == Status.Code.UNAUTHENTICATED
          && command.getCommandSpec().root().userObject() instanceof GlobalOptions options
          && !options.sentToken()) {
        line += " (no token was sent: use --token, $MESSAGESTORE_TOKEN, --token-file, "
            + "or --as USER with $MESSAGESTORE_JWT_SECRET)";
      }
      command.getErr().println(line);
      return MessageStoreCli.EXIT_CALL_FAILED;
    }
    if (e instanceof CommandLine.ParameterException usage) {
      return new UsageErrors().handleParseException(usage, parseResult.originalArgs().toArray(String[]::new));
    }
    if (e instanceof CommandFailedException failed) {
      command.getErr().println(command.getCommandSpec().qualifiedName() + ": "
          + UsageErrors.oneLine(failed.getMessage()));
      return MessageStoreCli.EXIT_CALL_FAILED;
    }
    if (e instanceof UncheckedIOException io) {
      command.getErr().println(command.getCommandSpec().qualifiedName() + ": "
          + UsageErrors.oneLine(io.getMessage()));
      return MessageStoreCli.EXIT_CALL_FAILED;
    }
    command.getErr().println(command.getCommandSpec().qualifiedName() + ": internal error: "
        + UsageErrors.oneLine(String.valueOf(e)));
    return MessageStoreCli.EXIT_CALL_FAILED;
  }

  /** {@code CODE: description}, on one line. */
  static String describe(MessageStoreException e) {
    String description = e.getDescription() == null ? "" : UsageErrors.oneLine(e.getDescription());
    if (description.isEmpty() && e.getCause() != null && e.getCause().getCause() != null) {
      // A connection failure carries its reason in the cause, e.g. "Connection refused".
      description = UsageErrors.oneLine(String.valueOf(e.getCause().getCause().getMessage()));
    }
    return e.getCode() + (description.isEmpty() ? "" : ": " + description);
  }
}
