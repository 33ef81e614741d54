package io.messagestore.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The options every subcommand takes, before or after its name ({@code messagestore --target h:1
 * send ...} and {@code messagestore send ... --target h:1} mean the same), as users of
 * {@code kubectl} or {@code git -C} expect. Picocli's inherited options write to these fields
 * of the root command wherever on the line they appear.
 */
public abstract class GlobalOptions {

  /** The gateway's default address, as the gateway itself listens by default. */
  public static final String DEFAULT_TARGET = "127.0.0.1:50051";
  /** The deadline of each call unless {@code --timeout} says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, String> environment;

  @Option(names = "--target", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Gateway address: host:port, a comma-separated list of them (calls go round-robin "
          + "to the healthy ones), dns:///NAME:PORT or another gRPC target URI (default: "
          + "$MESSAGESTORE_TARGET, else " + DEFAULT_TARGET + ").")
  String target;

  @Option(names = "--plaintext", scope = ScopeType.INHERIT,
      description = "Connect without TLS. The default for a loopback target (127.*, localhost, ::1).")
  boolean plaintext;

  @Option(names = "--tls", scope = ScopeType.INHERIT,
      description = "Connect with TLS even to a loopback target.")
  boolean tls;

  @Option(names = "--cacert", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "PEM file of the CA certificates to trust instead of the JVM's.")
  Path caCertificates;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "JWT",
      description = "Bearer token (default: $MESSAGESTORE_TOKEN).")
  String token;

  @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Read the bearer token from FILE.")
  Path tokenFile;

  @Option(names = "--as", scope = ScopeType.INHERIT, paramLabel = "USER",
      description = "Development only: mint a 5-minute token for USER, signed with "
          + "$MESSAGESTORE_JWT_SECRET (the gateway's secret).")
  String actAs;

  @Option(names = "--admin", scope = ScopeType.INHERIT,
      description = "With --as: give the minted token the admin role.")
  boolean admin;

  @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "FORMAT",
      description = "text (default; tables and plain lines) or json (protobuf JSON, one object "
          + "per line).")
  OutputFormat output = OutputFormat.text;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Deadline of each call, e.g. 500ms, 10s, 2m (default: 10s). Watches have none.")
  Duration timeout = DEFAULT_TIMEOUT;

  private boolean sentToken;

  protected GlobalOptions(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  /** The environment the command runs in (the process's, or a test's). */
  public Map<String, String> environment() {
    return environment;
  }

  /** The deadline of each call. */
  public Duration timeout() {
    return timeout;
  }

  /** The output format chosen with {@code -o}. */
  public OutputFormat output() {
    return output;
  }

  /**
   * Opens a connection as the options say. Call it once per command and close what it returns.
   *
   * @param pageSize messages or threads per page when the command pages
   * @throws IllegalArgumentException naming the option when the options cannot be used
   */
  public GatewayConnection connect(int pageSize) {
    return connect(pageSize, true);
  }

  /**
   * Opens a connection as the options say; without health checking for a command that asks
   * the health service itself (a gateway that says NOT_SERVING would otherwise get no call).
   */
  public GatewayConnection connect(int pageSize, boolean healthChecking) {
    if (plaintext && tls) {
      throw new IllegalArgumentException("--plaintext and --tls exclude each other");
    }
    if (plaintext && caCertificates != null) {
      throw new IllegalArgumentException("--cacert needs TLS, but --plaintext was given");
    }
    String resolvedTarget = target != null ? target
        : environment.getOrDefault("MESSAGESTORE_TARGET", DEFAULT_TARGET);
    // Plaintext on loopback never leaves the machine, and the gateway listens without TLS by
    // default: requiring --plaintext there would only trip up every first run.
    boolean withoutTls = plaintext
        || (!tls && caCertificates == null && GatewayConnection.isLoopback(resolvedTarget));
    Optional<String> bearer = Tokens.resolve(this, Clock.systemUTC());
    sentToken = bearer.isPresent();
    return GatewayConnection.open(resolvedTarget, withoutTls, caCertificates, bearer, timeout, pageSize,
        healthChecking);
  }

  /** Whether the last connection sent a bearer token (for hints on UNAUTHENTICATED). */
  boolean sentToken() {
    return sentToken;
  }

  /** The output formats of {@code -o}. */
  public enum OutputFormat { text, json }
}
