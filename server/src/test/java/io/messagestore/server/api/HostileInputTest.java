package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Random and mutated payloads sent to every RPC with a valid token: each is answered with a
 * status that says what was wrong (never UNKNOWN or INTERNAL), the log stays small, and the
 * gateway stays healthy. Against tiers of its own: valid payloads store, replay and rebuild.
 */
class HostileInputTest {
  /** Another seed replays another run: {@code -Dmessagestore.fuzz.seed=...}. */
  static final long SEED = Long.getLong("messagestore.fuzz.seed", 16L);
  static final int PAYLOADS_PER_RPC = 100;
  static final List<String> THREADS = List.of("fuzz-a", "fuzz-b", "fuzz:c.d_e-f");
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  TestGateway gw;
  final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void start() throws Exception {
    gw = TestGateway.startWith(privateTiers.get().settings(Map.of()));
    logged.start();
    root.addAppender(logged);
  }

  @AfterEach
  void stop() {
    root.detachAppender(logged);
    gw.close();
  }

  @Test
  void randomAndMutatedPayloadsToEveryRpcAreAnsweredQuietlyAndTheGatewayStaysHealthy() {
    Random random = new Random(SEED);
    Map<Status.Code, Integer> codes = new EnumMap<>(Status.Code.class);
    List<String> unexplained = new ArrayList<>();
    int calls = 0;
    long start = System.nanoTime();
    for (ServiceDescriptor service : List.of(MessageStoreGrpc.getServiceDescriptor(),
        MessageStoreAdminGrpc.getServiceDescriptor())) {
      boolean admin = service.getName().equals(MessageStoreAdminGrpc.SERVICE_NAME);
      for (MethodDescriptor<?, ?> method : service.getMethods()) {
        Descriptor type = requestType(method);
        for (int i = 0; i < PAYLOADS_PER_RPC; i++) {
          byte[] payload = switch (i % 3) {
            case 0 -> randomBytes(random);
            case 1 -> mutated(randomMessage(type, random, 0).toByteArray(), random);
            default -> randomMessage(type, random, 0).toByteArray();
          };
          StatusRuntimeException e = call(method, payload, admin);
          Status.Code code = e == null ? Status.Code.OK : e.getStatus().getCode();
          codes.merge(code, 1, Integer::sum);
          calls++;
          if (code == Status.Code.UNKNOWN || code == Status.Code.INTERNAL) {
            unexplained.add(method.getFullMethodName() + " <- " + hex(payload) + ": " + e.getStatus());
          }
        }
      }
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);

    assertThat(unexplained).as("seed %d, answers %s", SEED, codes).isEmpty();
    assertThat(calls).isEqualTo(1500);
    assertThat(codes).as("both garbage and valid requests were among them").containsKeys(
        Status.Code.INVALID_ARGUMENT, Status.Code.OK);
    assertThat(gw.gateway().meters().get("messagestore.grpc.malformed.requests").counter().count()).isPositive();

    // Before: a 60-line SEVERE stack trace per unparsable request (about 5.6 kB each).
    assertThat(logged.list).as("log lines with a stack trace").noneMatch(e -> e.getThrowableProxy() != null);
    long malformedLines = logged.list.stream()
        .filter(e -> e.getLoggerName().endsWith("MalformedRequests")).count();
    assertThat(malformedLines).as("rate-limited lines about unparsable requests").isBetween(1L, 2 + seconds / 10);
    long bytes = logged.list.stream().mapToLong(HostileInputTest::size).sum();
    assertThat(bytes).as("log bytes for %d calls", calls).isLessThan(64 * 1024);

    assertThat(HealthGrpc.newBlockingStub(gw.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("").build()).getStatus()).isEqualTo(ServingStatus.SERVING);
    String id = gw.as("alice").sendMessage(SendMessageRequest.newBuilder().setThreadId("after-the-fuzz")
        .setRole(Role.ROLE_USER).setContent("still here").build()).getMessage().getMessageId();
    assertThat(gw.as("alice").getMessage(GetMessageRequest.newBuilder().setThreadId("after-the-fuzz")
        .setMessageId(id).build()).getMessage().getContent()).isEqualTo("still here");
  }

  @Test
  void anUnparsableRequestIsInvalidArgumentWithAOneLineDescription() {
    StatusRuntimeException e = call(MessageStoreGrpc.getSendMessageMethod(), new byte[] {(byte) 0xff, 0x01}, false);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .startsWith("request to messagestore.v1.MessageStore/SendMessage is not a valid messagestore.v1.SendMessageRequest: ")
        .doesNotContain("\n");
  }

  @Test
  void javaUtilLoggingGoesThroughTheGatewaysLogging() {
    java.util.logging.Logger.getLogger("io.grpc.hostile-input-test").warning("a line from grpc-java");
    assertThat(logged.list).anySatisfy(e -> {
      assertThat(e.getLoggerName()).isEqualTo("io.grpc.hostile-input-test");
      assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
      assertThat(e.getFormattedMessage()).isEqualTo("a line from grpc-java");
    });
  }

  /** Calls {@code method} with raw bytes as its request; null when it answered OK. */
  StatusRuntimeException call(MethodDescriptor<?, ?> method, byte[] payload, boolean admin) {
    MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(method.getType()).setFullMethodName(method.getFullMethodName())
        .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)
        .withCallCredentials(Tokens.bearer(admin ? Tokens.admin("fuzz-admin") : Tokens.user("fuzz")));
    try {
      if (method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
        Iterator<byte[]> answers = ClientCalls.blockingServerStreamingCall(gw.channel(), raw, options, payload);
        answers.forEachRemaining(a -> { });
      } else {
        ClientCalls.blockingUnaryCall(gw.channel(), raw, options, payload);
      }
      return null;
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  static Descriptor requestType(MethodDescriptor<?, ?> method) {
    return ((Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype())
        .getDescriptorForType();
  }

  static byte[] randomBytes(Random random) {
    byte[] b = new byte[1 + random.nextInt(256)];
    random.nextBytes(b);
    return b;
  }

  /** A few byte flips, overwrites, cuts, insertions and repeats of a valid payload. */
  static byte[] mutated(byte[] valid, Random random) {
    byte[] b = valid.length == 0 ? randomBytes(random) : valid.clone();
    for (int n = 1 + random.nextInt(4); n > 0; n--) {
      int at = random.nextInt(b.length);
      switch (random.nextInt(5)) {
        case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
        case 1 -> b[at] = (byte) random.nextInt(256);
        case 2 -> b = java.util.Arrays.copyOf(b, Math.max(1, at));
        case 3 -> {
          byte[] longer = new byte[b.length + 1];
          System.arraycopy(b, 0, longer, 0, at);
          longer[at] = (byte) random.nextInt(256);
          System.arraycopy(b, at, longer, at + 1, b.length - at);
          b = longer;
        }
        default -> {
          byte[] twice = java.util.Arrays.copyOf(b, b.length + (b.length - at));
          System.arraycopy(b, at, twice, b.length, b.length - at);
          b = twice;
        }
      }
    }
    return b;
  }

  /** A message of {@code type} with random fields, many of them plausible, some absurd. */
  static DynamicMessage randomMessage(Descriptor type, Random random, int depth) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(type);
    for (FieldDescriptor f : type.getFields()) {
      if (random.nextInt(4) == 0) {
        continue;
      }
      if (f.isRepeated()) {
        for (int n = random.nextInt(4); n > 0; n--) {
          b.addRepeatedField(f, value(f, random, depth));
        }
      } else {
        b.setField(f, value(f, random, depth));
      }
    }
    return b.build();
  }

  static Object value(FieldDescriptor f, Random random, int depth) {
    return switch (f.getJavaType()) {
      case STRING -> string(random);
      case INT -> random.nextBoolean() ? random.nextInt(200) - 100 : random.nextInt();
      case LONG -> random.nextBoolean() ? (long) random.nextInt(200) - 100 : random.nextLong();
      case BOOLEAN -> random.nextBoolean();
      case FLOAT -> random.nextFloat();
      case DOUBLE -> random.nextDouble();
      case BYTE_STRING -> ByteString.copyFrom(randomBytes(random));
      case ENUM -> f.getEnumType().findValueByNumberCreatingIfUnknown(random.nextInt(8) - 1);
      case MESSAGE -> depth < 3 ? randomMessage(f.getMessageType(), random, depth + 1)
          : DynamicMessage.getDefaultInstance(f.getMessageType());
    };
  }

  static String string(Random random) {
    return switch (random.nextInt(12)) {
      case 0 -> "";
      case 1, 2 -> THREADS.get(random.nextInt(THREADS.size()));
      case 3 -> UUID.randomUUID().toString();
      case 4 -> "x".repeat(1 + random.nextInt(300));
      case 5 -> "a\u0000b";
      case 6 -> "ünïcödé ✓ \uD83D\uDE00";
      case 7 -> List.of("1700000000000-0", "99999999999999999999-1", "1-99999999999999999999999").get(random.nextInt(3));
      case 8 -> random.nextBoolean() ? "-" : "+";
      case 9 -> "%s%n${jndi:ldap://x}'; DROP TABLE messages; --";
      default -> {
        StringBuilder s = new StringBuilder();
        for (int n = random.nextInt(40); n > 0; n--) {
          s.append((char) (32 + random.nextInt(95)));
        }
        yield s.toString();
      }
    };
  }

  static long size(ILoggingEvent e) {
    return e.getFormattedMessage().length() + e.getLoggerName().length() + 40
        + (e.getThrowableProxy() == null ? 0 : ThrowableProxyUtil.asString(e.getThrowableProxy()).length());
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, 64); i++) {
      s.append(String.format("%02x", b[i]));
    }
    return b.length > 64 ? s + "..." : s.toString();
  }
}
