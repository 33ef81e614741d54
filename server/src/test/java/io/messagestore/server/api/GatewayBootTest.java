package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GatewayBootTest {
  static TestGateway gw;

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @Test
  void healthReportsOverallAndEveryTierServing() {
    var health = HealthGrpc.newBlockingStub(gw.channel()).withDeadlineAfter(5, TimeUnit.SECONDS);
    for (String service : List.of("", "messagestore.v1.MessageStore", "messagestore.redis", "messagestore.postgres",
        "messagestore.clickhouse")) {
      assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
          .as("health of '%s'", service).isEqualTo(ServingStatus.SERVING);
    }
  }

  @Test
  void tierStatusShowsEachTierWithBreakersAndRedisPersistence() {
    GetTierStatusResponse status = gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance());
    assertThat(status.getTiersList()).extracting(t -> t.getTier())
        .containsExactly(Tier.TIER_REDIS, Tier.TIER_POSTGRES, Tier.TIER_CLICKHOUSE);
    assertThat(status.getTiersList()).allSatisfy(t -> {
      assertThat(t.getReachable()).isTrue();
      assertThat(t.getReadBreakerState()).isEqualTo("CLOSED");
      assertThat(t.getWriteBreakerState()).isEqualTo("CLOSED");
    });
    assertThat(status.getTiers(0).getDetail()).contains("appendonly=");
    assertThat(status.getTiers(2).getDetail()).contains("ClickHouse");
  }

  @Test
  void reflectionListsBothServices() throws Exception {
    CompletableFuture<List<String>> services = new CompletableFuture<>();
    var requests = ServerReflectionGrpc.newStub(gw.channel()).serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse r) {
        services.complete(r.getListServicesResponse().getServiceList().stream()
            .map(s -> s.getName()).collect(Collectors.toList()));
      }

      @Override
      public void onError(Throwable t) {
        services.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    assertThat(services.get(10, TimeUnit.SECONDS))
        .contains("messagestore.v1.MessageStore", "messagestore.v1.MessageStoreAdmin", "grpc.health.v1.Health");
  }

  @Test
  void metricsEndpointExportsRpcLatencyHistogram() throws Exception {
    HealthGrpc.newBlockingStub(gw.channel()).check(HealthCheckRequest.getDefaultInstance());
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.gateway().metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("grpc_server_processing_duration_seconds_bucket")
        .contains("method=\"Check\"").contains("statusCode=\"OK\"")
        .contains("resilience4j_circuitbreaker_state");
  }

  @Test
  void metricsEndpointAnswersOnlyTheFamiliesNamed() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.gateway().metricsPort()
            + "/metrics?name%5B%5D=jvm_memory_used_bytes&name[]=jvm_threads_live_threads")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("jvm_memory_used_bytes{area=\"heap\"")
        .contains("jvm_threads_live_threads")
        .doesNotContain("grpc_server_processing_duration_seconds")
        .doesNotContain("resilience4j_circuitbreaker_state");
  }
}
