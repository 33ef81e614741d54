package io.messagestore.loadtest;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parses Go duration strings ("20s", "1m30s", "500ms", "250us") as ghz's flags take them. */
public final class GoDuration {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private GoDuration() {
    }

    public static Duration parse(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.startsWith("-")) {
            // Go accepts "-5s", but no flag of the tool means anything by a negative time
            throw new IllegalArgumentException("'" + text + "' is negative; give a duration like 10s, 1m30s or 500ms");
        }
        Matcher m = PART.matcher(s);
        int at = 0;
        double nanos = 0;
        while (m.find()) {
            if (m.start() != at) {
                throw new IllegalArgumentException("'" + text + "' is not a duration like 10s, 1m30s or 500ms");
            }
            double value = Double.parseDouble(m.group(1));
            nanos += value * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (at != s.length() || at == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a duration like 10s, 1m30s or 500ms");
        }
        return Duration.ofNanos((long) nanos);
    }

    /** Lets picocli reject a bad duration while parsing, as a usage error naming the flag. */
    public static final class Converter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
