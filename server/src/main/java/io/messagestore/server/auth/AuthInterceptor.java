package io.messagestore.server.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;

/**
 * Authenticates every call to the MessageStore services from its {@code authorization: Bearer}
 * header and binds the {@link Caller} to the gRPC context.
 *
 * <p>Health checks and server reflection stay open: load balancers and tools such as grpcurl
 * must reach them without credentials, and they expose no data.
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** With auth disabled (loopback development only), callers may name themselves. */
  static final Metadata.Key<String> DEV_USER = Metadata.Key.of("x-user-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final Set<String> OPEN_SERVICES = Set.of(
      "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");
  static final Caller DEV_CALLER = new Caller("dev", Set.of(Caller.ADMIN_ROLE));

  private final JwtVerifier verifier;

  /** @param verifier null when authentication is disabled */
  public AuthInterceptor(JwtVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (OPEN_SERVICES.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    Caller caller;
    if (verifier == null) {
      String named = headers.get(DEV_USER);
      caller = named == null || named.isBlank() ? DEV_CALLER : new Caller(named, Set.of());
    } else {
      String header = headers.get(AUTHORIZATION);
      if (header == null) {
        return reject(call, "missing authorization header: send 'authorization: Bearer <JWT>'");
      }
      if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return reject(call, "authorization header must be 'Bearer <JWT>'");
      }
      try {
        caller = verifier.verify(header.substring(7).trim());
      } catch (JwtVerifier.InvalidTokenException e) {
        return reject(call, e.getMessage());
      }
    }
    Context ctx = Context.current().withValue(Caller.CONTEXT_KEY, caller);
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> reject(ServerCall<ReqT, RespT> call, String reason) {
    call.close(Status.UNAUTHENTICATED.withDescription(reason), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
