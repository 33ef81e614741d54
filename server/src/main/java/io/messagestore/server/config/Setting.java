package io.messagestore.server.config;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code MESSAGESTORE_*} setting: its name, its default, how its text is read and the rules
 * its value must meet, declared together as a constant of the record of its concern.
 *
 * <p>The record checks each of its components against its setting when it is built, so a value
 * is refused the same way whether it came from the environment, a file, {@code --set} or code,
 * with a {@link ConfigException} naming the setting and the value:
 * {@code MESSAGESTORE_GRPC_PORT=70000: must be a TCP port (0-65535)}. The value of a
 * {@linkplain #secret() secret} setting is shown as {@code <hidden>}.
 *
 * <p>Immutable: {@link #rule} and {@link #secret} return a new setting.
 *
 * @param <T> the type of the value
 */
public final class Setting<T> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
  private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*(kib|mib|gib|k|m|g|b)?");
  private static final String HIDDEN = "<hidden>";

  private final String key;
  private final T defaultValue;
  private final Function<String, T> parser;
  private final List<Rule<T>> rules;
  private final boolean secret;

  private record Rule<T>(Predicate<? super T> holds, String text) {}

  private Setting(String key, T defaultValue, Function<String, T> parser, List<Rule<T>> rules, boolean secret) {
    this.key = Objects.requireNonNull(key, "key");
    this.defaultValue = Objects.requireNonNull(defaultValue, key);
    this.parser = parser;
    this.rules = List.copyOf(rules);
    this.secret = secret;
  }

  /** A setting whose text {@code parser} reads; an exception it throws becomes the rule shown. */
  public static <T> Setting<T> of(String key, T defaultValue, Function<String, T> parser) {
    return new Setting<>(key, defaultValue, parser, List.of(), false);
  }

  /** Text, as written (trimmed). */
  public static Setting<String> text(String key, String defaultValue) {
    return of(key, defaultValue, Function.identity());
  }

  /** An {@code int}; {@code _} may group digits ({@code 1_048_576}). */
  public static Setting<Integer> integer(String key, int defaultValue) {
    return of(key, defaultValue, s -> Integer.parseInt(s.replace("_", "")));
  }

  /** A {@code long}; {@code _} may group digits ({@code 1_000_000}). */
  public static Setting<Long> longInteger(String key, long defaultValue) {
    return of(key, defaultValue, s -> Long.parseLong(s.replace("_", "")));
  }

  /** A size in bytes, read by {@link #parseBytes}. */
  public static Setting<Long> bytes(String key, long defaultValue) {
    return of(key, defaultValue, Setting::parseBytes);
  }

  /** A duration, read by {@link #parseDuration}. */
  public static Setting<Duration> duration(String key, Duration defaultValue) {
    return of(key, defaultValue, Setting::parseDuration);
  }

  /** A duration above zero, which is what every timeout and interval is. */
  public static Setting<Duration> positiveDuration(String key, Duration defaultValue) {
    return duration(key, defaultValue).rule(d -> !d.isNegative() && !d.isZero(), "must be a positive duration");
  }

  /** A URI, given as text; its default as text too. */
  public static Setting<URI> uri(String key, String defaultValue) {
    return of(key, URI.create(defaultValue), s -> {
      try {
        return new URI(s);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("is not a URI: " + e.getReason());
      }
    });
  }

  /**
   * This setting with one more rule, checked after the ones before it.
   *
   * @param rule what a value must be, as the error shows it: {@code "must be 1-1024"}
   */
  public Setting<T> rule(Predicate<? super T> holds, String rule) {
    List<Rule<T>> more = new ArrayList<>(rules);
    more.add(new Rule<>(holds, rule));
    return new Setting<>(key, defaultValue, parser, more, secret);
  }

  /** This setting with its value never shown in an error (passwords, keys). */
  public Setting<T> secret() {
    return new Setting<>(key, defaultValue, parser, rules, true);
  }

  /** The environment variable name, which files and {@code --set} use too. */
  public String key() {
    return key;
  }

  /** The value when no source gives one. */
  public T defaultValue() {
    return defaultValue;
  }

  /** Reads the setting's text; the exception names the setting and the text as given. */
  T parse(String text) {
    try {
      return parser.apply(text.trim());
    } catch (ConfigException e) {
      throw e;
    } catch (NumberFormatException e) {
      throw refused(text, "is not a number");
    } catch (RuntimeException e) {
      throw refused(text, e.getMessage() == null ? "is not valid" : e.getMessage());
    }
  }

  /** Returns {@code value} if it is set and meets every rule, in order; else throws naming the first broken one. */
  T check(T value) {
    if (value == null) {
      throw refused(null, "must be set");
    }
    for (Rule<T> r : rules) {
      require(r.holds().test(value), value, r.text());
    }
    return value;
  }

  /**
   * For a rule that involves another setting, checked where both are known (the record's
   * constructor): throws naming this setting, with {@code shown} as its value, unless it holds.
   */
  void require(boolean holds, Object shown, String rule) {
    if (!holds) {
      throw refused(shown, rule);
    }
  }

  private ConfigException refused(Object value, String rule) {
    return new ConfigException(key, secret ? HIDDEN : String.valueOf(value), rule);
  }

  @Override
  public String toString() {
    return key;
  }

  /** The settings {@code type} declares as public constants. */
  static List<Setting<?>> declaredIn(Class<?> type) {
    List<Setting<?>> found = new ArrayList<>();
    for (Field f : type.getDeclaredFields()) {
      if (f.getType() == Setting.class && Modifier.isStatic(f.getModifiers()) && Modifier.isPublic(f.getModifiers())) {
        try {
          found.add((Setting<?>) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return found;
  }

  /** Parses {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601 ({@code PT5S}). */
  public static Duration parseDuration(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms": return Duration.ofMillis(n);
        case "s": return Duration.ofSeconds(n);
        case "m": return Duration.ofMinutes(n);
        case "h": return Duration.ofHours(n);
        default: return Duration.ofDays(n);
      }
    }
    if (t.startsWith("pt") || t.startsWith("p")) {
      return Duration.parse(s.trim().toUpperCase(Locale.ROOT));
    }
    throw new IllegalArgumentException("must be a duration such as 250ms, 5s, 2m, 1h or PT5S");
  }

  /** Parses a size in bytes: {@code 1048576}, {@code 512KiB}, {@code 64MiB}, {@code 1GiB} (k, m, g too). */
  public static long parseBytes(String s) {
    Matcher m = BYTES.matcher(s.trim().replace("_", "").toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("must be a size such as 67108864, 512KiB, 64MiB or 1GiB");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).substring(0, 1);
    switch (unit) {
      case "k": return Math.multiplyExact(n, 1024L);
      case "m": return Math.multiplyExact(n, 1024L * 1024);
      case "g": return Math.multiplyExact(n, 1024L * 1024 * 1024);
      default: return n;
    }
  }
}
