package io.messagestore.server.auth;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthenticationTest {
  static TestGateway gw;

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String descriptionPart) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      org.assertj.core.api.Assertions.assertThat(e.getStatus().getCode()).isEqualTo(code);
      org.assertj.core.api.Assertions.assertThat(e.getStatus().getDescription()).contains(descriptionPart);
    });
  }

  @Test
  void callWithoutTokenIsUnauthenticated() {
    assertStatus(() -> MessageStoreGrpc.newBlockingStub(gw.channel()).listThreads(ListThreadsRequest.getDefaultInstance()),
        Status.Code.UNAUTHENTICATED, "missing authorization header");
  }

  @Test
  void tokenSignedWithAnotherKeyIsUnauthenticated() {
    String forged = Tokens.token("mallory", List.of("admin"), Duration.ofHours(1),
        "another-secret-that-is-long-enough-for-hs256!!");
    assertStatus(() -> MessageStoreGrpc.newBlockingStub(gw.channel()).withCallCredentials(Tokens.bearer(forged))
        .listThreads(ListThreadsRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED, "signature does not verify");
  }

  @Test
  void expiredTokenIsUnauthenticated() {
    String expired = Tokens.token("alice", List.of(), Duration.ofMinutes(-10), Tokens.SECRET);
    assertStatus(() -> MessageStoreGrpc.newBlockingStub(gw.channel()).withCallCredentials(Tokens.bearer(expired))
        .listThreads(ListThreadsRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED, "expired");
  }

  @Test
  void garbageTokenIsUnauthenticated() {
    assertStatus(() -> MessageStoreGrpc.newBlockingStub(gw.channel()).withCallCredentials(Tokens.bearer("not.a.jwt"))
        .listThreads(ListThreadsRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED, "not a signed JWT");
  }

  @Test
  void nonAdminCallingAdminRpcIsPermissionDenied() {
    assertStatus(() -> MessageStoreAdminGrpc.newBlockingStub(gw.channel())
            .withCallCredentials(Tokens.bearer(Tokens.user("alice")))
            .getTierStatus(GetTierStatusRequest.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED, "needs the admin role");
  }
}
