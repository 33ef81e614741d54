package io.messagestore.cli;

import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Bad usage: one line on stderr naming the problem and where help is, exit code 2. Picocli's
 * default prints the whole usage text, which buries the one line that matters.
 */
final class UsageErrors implements IParameterExceptionHandler {
  @Override
  public int handleParseException(ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    String name = command.getCommandSpec().qualifiedName();
    String suggestion = "";
    if (e instanceof UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
      suggestion = " (did you mean: " + String.join(", ", unmatched.getSuggestions()) + "?)";
    }
    command.getErr().println(name + ": " + oneLine(e.getMessage()) + suggestion
        + " (see '" + name + " --help')");
    return MessageStoreCli.EXIT_USAGE;
  }

  static String oneLine(String text) {
    return text == null ? "" : text.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
