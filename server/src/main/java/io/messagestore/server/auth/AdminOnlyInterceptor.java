package io.messagestore.server.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/** Lets only callers with the admin role through; bound to the admin service alone. */
public final class AdminOnlyInterceptor implements ServerInterceptor {
  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Caller caller = Caller.CONTEXT_KEY.get();
    if (caller == null || !caller.isAdmin()) {
      String who = caller == null ? "anonymous caller" : "user '" + caller.userId() + "'";
      call.close(Status.PERMISSION_DENIED.withDescription(
          call.getMethodDescriptor().getFullMethodName() + " needs the admin role; " + who + " does not have it"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
