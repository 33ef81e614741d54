package io.messagestore.server;

import io.messagestore.server.auth.DevTokenCommand;
import io.messagestore.server.config.ConfigException;
import io.messagestore.server.config.ConfigLoader;
import io.messagestore.server.config.GatewayConfig;
import io.netty.util.ResourceLeakDetector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code messagestore-server}: runs the gateway until SIGTERM/SIGINT, then drains and exits. */
@Command(name = "messagestore-server", mixinStandardHelpOptions = true, version = "messagestore 0.1.0",
    description = "Runs the MessageStore gRPC gateway. Settings come from MESSAGESTORE_* environment variables, "
        + "an optional properties file with the same keys, and --set overrides (later wins).")
public final class GatewayMain implements Callable<Integer> {
  /** What a bad option or setting exits with: picocli's usage-error code, the documented one. */
  public static final int BAD_USAGE = CommandLine.ExitCode.USAGE;

  @Option(names = "--config-file", paramLabel = "FILE", converter = ReadableFile.class,
      description = "Properties file with MESSAGESTORE_* keys.")
  Path configFile;

  @Option(names = "--set", paramLabel = "KEY=VALUE", converter = Setting.class,
      description = "Override a setting, e.g. --set MESSAGESTORE_GRPC_PORT=50052 (repeatable).")
  List<Map.Entry<String, String>> overrides = new ArrayList<>();

  @Option(names = "--check-config", description = "Validate the configuration, print it and exit.")
  boolean checkConfig;

  @Spec
  CommandSpec spec;

  private final Map<String, String> environment;

  /** Netty's own switch; when it is set, it is left alone. */
  static final String LEAK_DETECTION_PROPERTY = "io.netty.leakDetection.level";

  GatewayMain(Map<String, String> environment) {
    this.environment = environment;
  }

  public static void main(String[] args) {
    turnOffLeakDetectionUnlessAsked();
    System.exit(commandLine(System.getenv()).execute(args));
  }

  /**
   * The command line with its {@code token} subcommand, reading settings from
   * {@code environment}. A mistake in what the operator typed is one line on stderr and exit
   * code {@value #BAD_USAGE}: a usage page or a stack trace buries the one value to fix.
   */
  public static CommandLine commandLine(Map<String, String> environment) {
    CommandLine cl = new CommandLine(new GatewayMain(environment));
    cl.addSubcommand(new DevTokenCommand(environment));
    cl.setParameterExceptionHandler(GatewayMain::oneLine);
    cl.setExecutionExceptionHandler((e, failed, parsed) -> {
      if (e instanceof ConfigException) {
        failed.getErr().println("messagestore: invalid configuration: " + e.getMessage());
        return BAD_USAGE;
      }
      throw e;
    });
    return cl;
  }

  private static int oneLine(ParameterException e, String[] args) {
    CommandLine failed = e.getCommandLine();
    String command = failed.getCommandSpec().qualifiedName();
    // picocli's messages are one line except for a few multi-value cases: keep it one.
    String message = String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " ");
    failed.getErr().println(command + ": " + message + " (see '" + command + " --help')");
    failed.getErr().flush();
    return BAD_USAGE;
  }

  /**
   * Netty's leak detector, on by default, records a stack trace for one buffer in 128 it
   * tracks: profiled at about 7% of the gateway's CPU on hot reads and no-op calls. The test
   * suite starts gateways in its own JVM with the detector on, which is where a leak would be
   * found; {@code -Dio.netty.leakDetection.level=simple} turns it on in a deployed gateway.
   */
  static void turnOffLeakDetectionUnlessAsked() {
    if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> set = new HashMap<>();
    overrides.forEach(e -> set.put(e.getKey(), e.getValue()));
    GatewayConfig config = ConfigLoader.load(configFile, environment, set);
    if (checkConfig) {
      spec.commandLine().getOut().println(config);
      spec.commandLine().getOut().flush();
      return 0;
    }
    Gateway gateway = new Gateway(config, Clock.systemUTC());
    Runtime.getRuntime().addShutdownHook(new Thread(gateway::stop, "shutdown"));
    gateway.start();
    gateway.awaitTermination();
    return 0;
  }

  /** Named at parse time, so that a typo is not discovered after the gateway failed to start. */
  static final class ReadableFile implements ITypeConverter<Path> {
    @Override
    public Path convert(String value) {
      Path p = Path.of(value);
      if (!Files.isRegularFile(p)) {
        throw new TypeConversionException("'" + value + "' is not a file");
      }
      if (!Files.isReadable(p)) {
        throw new TypeConversionException("'" + value + "' cannot be read");
      }
      return p;
    }
  }

  /**
   * {@code KEY=VALUE} of a known key: a misspelt one would otherwise be ignored without a word,
   * leaving the setting at its default.
   */
  static final class Setting implements ITypeConverter<Map.Entry<String, String>> {
    @Override
    public Map.Entry<String, String> convert(String value) {
      int eq = value.indexOf('=');
      if (eq < 0) {
        throw new TypeConversionException("'" + value + "' is not KEY=VALUE");
      }
      String key = value.substring(0, eq).trim();
      if (!GatewayConfig.settingNames().contains(key)) {
        throw new TypeConversionException("'" + key + "' is not a MESSAGESTORE_* setting");
      }
      return Map.entry(key, value.substring(eq + 1));
    }
  }
}
