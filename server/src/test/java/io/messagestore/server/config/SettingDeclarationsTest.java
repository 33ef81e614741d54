package io.messagestore.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The declarations of the settings, against each other and against the README's table. */
class SettingDeclarationsTest {
  // Read by the launcher script and logback, not by the gateway's config.
  private static final List<String> LAUNCHER_SETTINGS = List.of("MESSAGESTORE_LOG_LEVEL", "MESSAGESTORE_JAVA_OPTS");
  private static final Pattern TABLE_ROW =
      Pattern.compile("^\\| `(MESSAGESTORE_[A-Z_]+)` \\| ([^|]*) \\|", Pattern.MULTILINE);
  private static final Pattern FIRST_CODE = Pattern.compile("`([^`]*)`");

  static List<Setting<?>> declared() {
    return Arrays.stream(GatewayConfig.class.getRecordComponents())
        .map(RecordComponent::getType)
        .flatMap(concern -> Setting.declaredIn(concern).stream())
        .toList();
  }

  @Test
  void everySettingHasItsOwnMessagestoreName() {
    List<String> names = declared().stream().map(Setting::key).toList();

    assertThat(names).doesNotHaveDuplicates().allMatch(n -> n.startsWith("MESSAGESTORE_"));
    assertThat(GatewayConfig.settingNames()).containsExactlyInAnyOrderElementsOf(names);
  }

  @Test
  void theReadmeTableListsEverySettingWithItsDefault() throws IOException {
    Map<String, String> documented = readmeDefaults();

    assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(
        Stream.concat(declared().stream().map(Setting::key), LAUNCHER_SETTINGS.stream()).toList());
    for (Setting<?> s : declared()) {
      assertThat(documentedDefault(s, documented.get(s.key())))
          .as("README default of %s", s.key()).isEqualTo(s.defaultValue());
    }
  }

  private static Object documentedDefault(Setting<?> s, String column) {
    switch (column.trim()) {
      case "empty":
      case "none":
        return "";
      case "number of cores":
        return Runtime.getRuntime().availableProcessors();
      default:
        Matcher code = FIRST_CODE.matcher(column);
        assertThat(code.find()).as("a `value` in the README default of %s", s.key()).isTrue();
        return s.parse(code.group(1));
    }
  }

  private static Map<String, String> readmeDefaults() throws IOException {
    Path readme = Path.of("..", "README.md");
    Matcher row = TABLE_ROW.matcher(Files.readString(readme));
    Map<String, String> defaults = new LinkedHashMap<>();
    while (row.find()) {
      defaults.put(row.group(1), row.group(2));
    }
    return defaults;
  }

  @Test
  void aRecordBuiltInCodeIsCheckedLikeALoadedOne() {
    assertThatThrownBy(() -> new PersistenceSettings(0, 1, 500, Duration.ZERO, Duration.ofSeconds(30), 5,
        Duration.ofHours(1)))
        .isInstanceOf(ConfigException.class).hasMessage("MESSAGESTORE_STREAM_SHARDS=0: must be 1-1024");
    assertThatThrownBy(() -> new RedisSettings(URI.create("http://127.0.0.1:6379"), Duration.ofMillis(100)))
        .isInstanceOf(ConfigException.class)
        .hasMessage("MESSAGESTORE_REDIS_URI=http://127.0.0.1:6379: must start with redis:// or rediss://");
    assertThatThrownBy(() -> new WriteSettings(1024, Duration.ZERO, Duration.ofMillis(2), 2))
        .isInstanceOf(ConfigException.class)
        .hasMessage("MESSAGESTORE_DURABLE_TIMEOUT=PT0S: must be a positive duration");
  }

  @Test
  void rulesAreCheckedInTheOrderTheyAreDeclared() {
    Setting<Integer> s = Setting.integer("MESSAGESTORE_EXAMPLE", 5)
        .rule(n -> n >= 1, "must be positive")
        .rule(n -> n <= 10, "must be at most 10");

    assertThat(s.check(10)).isEqualTo(10);
    assertThatThrownBy(() -> s.check(-20)).hasMessage("MESSAGESTORE_EXAMPLE=-20: must be positive");
    assertThatThrownBy(() -> s.check(20)).hasMessage("MESSAGESTORE_EXAMPLE=20: must be at most 10");
    assertThatThrownBy(() -> s.parse("five")).hasMessage("MESSAGESTORE_EXAMPLE=five: is not a number");
  }

  @Test
  void theValueOfASecretSettingIsNeverShown() {
    Setting<String> s = Setting.text("MESSAGESTORE_EXAMPLE_KEY", "").secret().rule(k -> k.length() > 8, "is too short");

    assertThatThrownBy(() -> s.check("hunter2")).hasMessage("MESSAGESTORE_EXAMPLE_KEY=<hidden>: is too short");
    assertThat(new AuthSettings(GatewayConfig.AuthMode.REQUIRED, "0123456789abcdef0123456789abcdef-hunter2"))
        .asString().doesNotContain("hunter2");
    assertThat(new PostgresSettings("postgresql://app:hunter2@db/x", "postgres", "", 8, Duration.ofSeconds(2)))
        .asString().doesNotContain("hunter2");
  }

  @Test
  void credentialsInThePostgresUrlWinHoweverTheRecordIsBuilt() {
    PostgresSettings p = new PostgresSettings("postgresql://app:url%40pw@db:5432/x", "other", "other-pw", 8,
        Duration.ofSeconds(2));

    assertThat(p.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/x");
    assertThat(p.user()).isEqualTo("app");
    assertThat(p.password()).isEqualTo("url@pw");
    assertThat(new PostgresSettings(p.jdbcUrl(), p.user(), p.password(), p.poolSize(), p.timeout())).isEqualTo(p);
  }
}
