package io.messagestore.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads the durations the gateway's settings use: {@code 250ms}, {@code 10s}, {@code 2m}, {@code 1h}, or ISO-8601. */
public final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    Duration duration = parse(value.trim());
    if (duration.isZero() || duration.isNegative()) {
      throw new TypeConversionException("'" + value + "' is not a positive duration");
    }
    return duration;
  }

  private static Duration parse(String value) {
    Matcher m = SHORT.matcher(value);
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
    try {
      return Duration.parse(value);
    } catch (DateTimeParseException e) {
      throw new TypeConversionException("'" + value + "' is not a duration (e.g. 500ms, 10s, 2m, 1h)");
    }
  }
}
