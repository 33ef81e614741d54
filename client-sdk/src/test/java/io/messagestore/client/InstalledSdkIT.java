package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client-sdk README promises another project: install the SDK's artifacts (the parent
 * POM, the API and the SDK, as {@code mvn install -pl client-sdk -am} does) into a Maven
 * repository, depend on {@code io.messagestore:messagestore-client-sdk}, build, and talk to a
 * gateway. An integration test because it installs the jars that the package phase made.
 *
 * <p>The repository is a fresh one in a temporary directory, so the test neither depends on nor
 * changes the user's {@code ~/.m2}; third-party artifacts are copied into it from there (a
 * mirror), so no network is needed.
 */
class InstalledSdkIT {
  private static final String VERSION = System.getProperty("messagestore.version");

  @Test
  void anOutsideProjectBuildsAgainstTheInstalledSdkAndTalksToAGateway(@TempDir Path dir) throws Exception {
    Path root = LocalTiers.repoRoot();
    Path settings = settings(dir);
    install(settings, root.resolve("pom.xml"), root.resolve("pom.xml"));
    install(settings, root.resolve("proto/target/messagestore-proto-" + VERSION + ".jar"),
        root.resolve("proto/pom.xml"));
    install(settings, root.resolve("client-sdk/target/messagestore-client-sdk-" + VERSION + ".jar"),
        root.resolve("client-sdk/pom.xml"));

    Path project = dir.resolve("project");
    copy(Path.of(System.getProperty("messagestore.outside.project")), project);
    run(project, mvn(settings, "-Dsdk.version=" + VERSION, "package"));

    String thread = "outside-" + UUID.randomUUID().toString().substring(0, 8);
    try (TestGateway gateway = TestGateway.start()) {
      String output = run(project, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-jar", project.resolve("target/uses-messagestore-sdk-1.0.jar").toString(),
          "127.0.0.1:" + gateway.gateway().port(),
          Tokens.user("outside-user"), thread));

      assertThat(output).isEqualTo("hello from outside\n");
    }
  }

  /** {@code mvn install} installs what the package phase attached: the sources and the Javadoc of the API. */
  @Test
  void theSourcesAndTheJavadocOfThePublicApiAreAttached() throws Exception {
    Path target = LocalTiers.repoRoot().resolve("client-sdk/target");
    try (java.util.zip.ZipFile sources = new java.util.zip.ZipFile(
            target.resolve("messagestore-client-sdk-" + VERSION + "-sources.jar").toFile());
        java.util.zip.ZipFile javadoc = new java.util.zip.ZipFile(
            target.resolve("messagestore-client-sdk-" + VERSION + "-javadoc.jar").toFile())) {
      assertThat(sources.getEntry("io/messagestore/client/MessageStoreClient.java")).isNotNull();
      assertThat(javadoc.getEntry("io/messagestore/client/MessageStoreClient.html")).isNotNull();
      assertThat(javadoc.getEntry("io/messagestore/client/MessageStoreAsyncClient.html")).isNotNull();
      assertThat(javadoc.stream().map(java.util.zip.ZipEntry::getName))
          .as("internal is not API").noneMatch(name -> name.startsWith("io/messagestore/client/internal/"));
    }
  }

  private static Path settings(Path dir) throws IOException {
    Path userRepository = Path.of(System.getProperty("messagestore.user.repository"));
    Path settings = dir.resolve("settings.xml");
    Files.writeString(settings, """
        <settings>
          <localRepository>%s</localRepository>
          <mirrors>
            <mirror><id>user-repository</id><mirrorOf>*</mirrorOf><url>%s</url></mirror>
          </mirrors>
        </settings>
        """.formatted(dir.resolve("repository"), userRepository.toUri()));
    return settings;
  }

  private static void install(Path settings, Path file, Path pom) throws Exception {
    run(pom.getParent(), mvn(settings, "org.apache.maven.plugins:maven-install-plugin:3.1.2:install-file",
        "-Dfile=" + file, "-DpomFile=" + pom));
  }

  private static List<String> mvn(Path settings, String... args) {
    List<String> command = new ArrayList<>(List.of("mvn", "-B", "-q", "-Dstyle.color=never", "-s", settings.toString()));
    command.addAll(List.of(args));
    return command;
  }

  private static String run(Path workingDirectory, List<String> command) throws Exception {
    Path log = Files.createTempFile("outside-", ".log");
    Process process = new ProcessBuilder(command).directory(workingDirectory.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(300, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    assertThat(process.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    return output;
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
  }
}
