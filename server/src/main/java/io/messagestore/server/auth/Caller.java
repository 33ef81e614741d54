package io.messagestore.server.auth;

import io.grpc.Context;
import io.grpc.Status;
import java.util.Set;

/** The authenticated caller of the current RPC: the JWT's {@code sub} and its roles. */
public record Caller(String userId, Set<String> roles) {
  public static final String ADMIN_ROLE = "admin";

  static final Context.Key<Caller> CONTEXT_KEY = Context.key("messagestore-caller");

  public Caller {
    roles = Set.copyOf(roles);
  }

  public boolean isAdmin() {
    return roles.contains(ADMIN_ROLE);
  }

  /** The caller bound to the current gRPC context by {@link AuthInterceptor}. */
  public static Caller current() {
    Caller c = CONTEXT_KEY.get();
    if (c == null) {
      // Only reachable if a service is registered without the interceptor: fail closed.
      throw Status.UNAUTHENTICATED.withDescription("no authenticated caller").asRuntimeException();
    }
    return c;
  }
}
