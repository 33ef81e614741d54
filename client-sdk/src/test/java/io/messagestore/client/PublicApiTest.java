package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The SDK's public API, as reflection sees the compiled classes, must equal the checked-in
 * {@code api/public-api.txt}: an API change is then always a deliberate one, made together with
 * the summary in the same commit. {@code internal} packages are not API and are left out.
 */
class PublicApiTest {
  static final Path SUMMARY = Path.of("api/public-api.txt");
  static final String UPDATE = "mvn -B -o -pl client-sdk test-compile surefire:test -Dtest=PublicApiTest "
      + "-Dmessagestore.api.update=true";

  @Test
  void thePublicApiIsTheCheckedInSummary() throws Exception {
    List<String> actual = publicApi();
    if (Boolean.getBoolean("messagestore.api.update")) {
      Files.createDirectories(SUMMARY.getParent());
      Files.write(SUMMARY, actual, StandardCharsets.UTF_8);
    }
    List<String> expected = Files.exists(SUMMARY) ? Files.readAllLines(SUMMARY, StandardCharsets.UTF_8) : List.of();

    List<String> diff = new ArrayList<>();
    expected.stream().filter(l -> !actual.contains(l)).forEach(l -> diff.add("- " + l));
    actual.stream().filter(l -> !expected.contains(l)).forEach(l -> diff.add("+ " + l));
    assertThat(diff)
        .as("the public API differs from %s (- only in the summary, + only in the code). If the "
            + "change is deliberate, update the summary with%n  %s%nand commit it with the change", SUMMARY.toAbsolutePath(), UPDATE)
        .isEmpty();
  }

  static List<String> publicApi() throws IOException, URISyntaxException, ClassNotFoundException {
    Path classes = Path.of(MessageStoreClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
        String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
        if (name.contains(".internal.") || name.endsWith("package-info")) {
          continue;
        }
        Class<?> type = Class.forName(name, false, PublicApiTest.class.getClassLoader());
        if (!isVisible(type)) {
          continue;
        }
        lines.addAll(describe(type));
      }
    }
    return lines;
  }

  private static boolean isVisible(Class<?> type) {
    for (Class<?> t = type; t != null; t = t.getDeclaringClass()) {
      if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isSynthetic()) {
        return false;
      }
    }
    return true;
  }

  private static List<String> describe(Class<?> type) {
    List<String> members = new ArrayList<>();
    String head = type.toGenericString();
    if (type.getGenericSuperclass() != null && type.getSuperclass() != Object.class && !type.isEnum()) {
      head += " extends " + type.getGenericSuperclass().getTypeName();
    }
    for (var i : type.getGenericInterfaces()) {
      head += " implements " + i.getTypeName();
    }
    for (Field f : type.getDeclaredFields()) {
      if (visible(f.getModifiers()) && !f.isSynthetic()) {
        members.add(type.getName() + " | " + f.toGenericString());
      }
    }
    for (Constructor<?> c : type.getDeclaredConstructors()) {
      if (visible(c.getModifiers()) && !c.isSynthetic()) {
        members.add(type.getName() + " | " + c.toGenericString());
      }
    }
    for (Method m : type.getDeclaredMethods()) {
      if (visible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
        members.add(type.getName() + " | " + m.toGenericString());
      }
    }
    members.sort(null);
    List<String> lines = new ArrayList<>();
    lines.add(head);
    lines.addAll(members);
    return lines;
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }
}
