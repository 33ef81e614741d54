package io.messagestore.server.api.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request that is not a valid protobuf of its type with INVALID_ARGUMENT and a
 * one-line description, counts it ({@code messagestore_grpc_malformed_requests_total}), and logs
 * at most one line per {@link #LOG_INTERVAL} about such requests.
 *
 * <p>grpc-java parses a request before any interceptor or handler sees it, and answers a parse
 * failure with UNKNOWN ("Application error processing RPC") and a SEVERE stack trace: a log flood
 * any authenticated caller could cause. So each method of a guarded service gets a request
 * marshaller that hands the handler's listener either the parsed request or the parse failure,
 * and the listener answers the failure itself. Responses keep the service's own marshaller.
 */
public final class MalformedRequests {
  private static final Logger log = LoggerFactory.getLogger(MalformedRequests.class);
  static final Duration LOG_INTERVAL = Duration.ofSeconds(10);
  private static final int MAX_REASON = 200;

  private final Counter rejected;
  private final Clock clock;
  /** When the next line may be logged (clock millis), and how many were not logged since the last. */
  private final AtomicLong nextLogAt = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong unlogged = new AtomicLong();

  public MalformedRequests(MeterRegistry meters, Clock clock) {
    this.clock = clock;
    this.rejected = Counter.builder("messagestore.grpc.malformed.requests")
        .description("requests that were not a valid protobuf of their type, answered INVALID_ARGUMENT")
        .register(meters);
  }

  /** The same service, with every method's unparsable requests answered INVALID_ARGUMENT. */
  public ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      methods.add(guard(m));
    }
    // The service descriptor must hold the very method descriptors that are bound.
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder guarded = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(guarded::addMethod);
    return guarded.build();
  }

  private <ReqT, RespT> ServerMethodDefinition<Parsed<ReqT>, RespT> guard(ServerMethodDefinition<ReqT, RespT> def) {
    MethodDescriptor<ReqT, RespT> method = def.getMethodDescriptor();
    MethodDescriptor<Parsed<ReqT>, RespT> guarded = method
        .toBuilder(new ParsingMarshaller<>(method.getRequestMarshaller()), method.getResponseMarshaller())
        .build();
    String description = "request to " + method.getFullMethodName() + " is not a valid "
        + typeName(method.getRequestMarshaller()) + ": ";
    ServerCallHandler<ReqT, RespT> handler = def.getServerCallHandler();
    return ServerMethodDefinition.create(guarded, (call, headers) -> {
      ParsedCall<ReqT, RespT> parsed = new ParsedCall<>(call, method);
      return new RejectingListener<>(handler.startCall(parsed, headers), parsed, description);
    });
  }

  private static String typeName(MethodDescriptor.Marshaller<?> marshaller) {
    if (marshaller instanceof MethodDescriptor.PrototypeMarshaller<?> p && p.getMessagePrototype() instanceof Message m) {
      return m.getDescriptorForType().getFullName();
    }
    return "request";
  }

  private void reject(ParsedCall<?, ?> call, String description) {
    if (!call.closeOnce(Status.INVALID_ARGUMENT.withDescription(description), new Metadata())) {
      return; // the handler answered first (e.g. the caller may not call it at all)
    }
    rejected.increment();
    long now = clock.millis();
    long next = nextLogAt.get();
    if (now >= next && nextLogAt.compareAndSet(next, now + LOG_INTERVAL.toMillis())) {
      long others = unlogged.getAndSet(0);
      log.warn("answered INVALID_ARGUMENT: {}{}", description,
          others == 0 ? "" : " (and " + others + " more since the last such line)");
    } else {
      unlogged.incrementAndGet();
    }
  }

  /** A request as it came off the wire: parsed, or why it could not be. */
  private record Parsed<T>(T request, String failure) {}

  /** The service's marshaller, with a parse failure handed on instead of thrown. */
  private static final class ParsingMarshaller<T> implements MethodDescriptor.Marshaller<Parsed<T>> {
    private final MethodDescriptor.Marshaller<T> original;

    ParsingMarshaller(MethodDescriptor.Marshaller<T> original) {
      this.original = original;
    }

    @Override
    public InputStream stream(Parsed<T> value) {
      return original.stream(value.request());
    }

    @Override
    public Parsed<T> parse(InputStream stream) {
      try {
        return new Parsed<>(original.parse(stream), null);
      } catch (RuntimeException e) {
        return new Parsed<>(null, reason(e));
      }
    }

    /** One line: the protobuf parser's own words where it has them. */
    private static String reason(Throwable e) {
      Throwable why = e;
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof InvalidProtocolBufferException) {
          why = c;
        }
      }
      String text = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
      text = text.replaceAll("\\s+", " ").trim();
      return text.length() > MAX_REASON ? text.substring(0, MAX_REASON) + "..." : text;
    }
  }

  /** Passes parsed requests on; answers the first unparsable one and drops what follows. */
  private final class RejectingListener<ReqT> extends ServerCall.Listener<Parsed<ReqT>> {
    private final ServerCall.Listener<ReqT> delegate;
    private final ParsedCall<ReqT, ?> call;
    private final String description;
    private boolean closed;

    RejectingListener(ServerCall.Listener<ReqT> delegate, ParsedCall<ReqT, ?> call, String description) {
      this.delegate = delegate;
      this.call = call;
      this.description = description;
    }

    @Override
    public void onMessage(Parsed<ReqT> message) {
      if (closed) {
        return;
      }
      if (message.failure() != null) {
        closed = true;
        reject(call, description + message.failure());
        return;
      }
      delegate.onMessage(message.request());
    }

    @Override
    public void onHalfClose() {
      // The handler would answer a call without a request itself, after it was answered here.
      if (!closed) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!closed) {
        delegate.onReady();
      }
    }

    @Override
    public void onCancel() {
      delegate.onCancel();
    }

    @Override
    public void onComplete() {
      delegate.onComplete();
    }
  }

  /**
   * The call as the service's handler expects it: with the service's own request type. Closed
   * once, by the handler or by the rejection of a request, whichever comes first.
   */
  private static final class ParsedCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<ParsedCall> CLOSED =
        AtomicIntegerFieldUpdater.newUpdater(ParsedCall.class, "closed");
    private final ServerCall<Parsed<ReqT>, RespT> call;
    private final MethodDescriptor<ReqT, RespT> method;
    /** 1 once closed; a field, not an AtomicBoolean: one object less on every call. */
    private volatile int closed;

    ParsedCall(ServerCall<Parsed<ReqT>, RespT> call, MethodDescriptor<ReqT, RespT> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(RespT message) {
      if (closed == 0) {
        call.sendMessage(message);
      }
    }

    @Override
    public void close(Status status, Metadata trailers) {
      closeOnce(status, trailers);
    }

    /** Closes the call unless it is closed already; says whether it did. */
    boolean closeOnce(Status status, Metadata trailers) {
      if (!CLOSED.compareAndSet(this, 0, 1)) {
        return false;
      }
      call.close(status, trailers);
      return true;
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
      return method;
    }
  }
}
