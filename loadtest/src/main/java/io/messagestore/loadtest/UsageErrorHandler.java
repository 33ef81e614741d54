package io.messagestore.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Bad flags: one line on stderr and exit status 2, instead of picocli's message followed by
 * the whole usage text, so the reason is what a CI log shows next to the failure.
 */
final class UsageErrorHandler implements CommandLine.IParameterExceptionHandler {

    private static final Pattern OPTION = Pattern.compile("(--?[A-Za-z][A-Za-z0-9-]*)(=.*)?");

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        String reason = e instanceof UnmatchedArgumentException unmatched
                ? describe(unmatched.getUnmatched()) : e.getMessage();
        commandLine.getErr().println("error: " + oneLine(reason) + " (see --help)");
        return commandLine.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * Unknown options by name; other stray arguments only counted. They are usually the pieces
     * of an unquoted -m JSON split by the shell, i.e. pieces of a token that must not reach a log.
     */
    static String describe(List<String> unmatched) {
        List<String> options = new ArrayList<>();
        int others = 0;
        for (String argument : unmatched) {
            Matcher option = OPTION.matcher(argument);
            if (option.matches()) {
                options.add(option.group(1));
            } else {
                others++;
            }
        }
        List<String> parts = new ArrayList<>();
        if (!options.isEmpty()) {
            parts.add((options.size() == 1 ? "unknown option " : "unknown options ") + String.join(", ", options));
        }
        if (others > 0) {
            parts.add(others + (others == 1 ? " unexpected argument" : " unexpected arguments")
                    + " (not shown: it may be part of a header value; give one HOST and quote JSON values,"
                    + " e.g. -m '{\"authorization\":\"Bearer TOKEN\"}')");
        }
        return String.join("; ", parts);
    }

    static String oneLine(String message) {
        return String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
