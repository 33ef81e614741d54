package io.messagestore.cli.command;

import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.messagestore.cli.CommandFailedException;
import io.messagestore.cli.GatewayConnection;
import io.messagestore.cli.GlobalOptions;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "health", description = {"Ask grpc.health.v1 whether the gateway (or one tier) is serving.",
    "Needs no token. Exit code 0 when SERVING, 1 otherwise: usable as a probe."})
public final class HealthCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE", description = {
      "\"\" (default: the gateway as a whole), messagestore.redis, messagestore.postgres or "
          + "messagestore.clickhouse."})
  String service = "";

  @Override
  public Integer call() {
    GlobalOptions options = (GlobalOptions) spec.root().userObject();
    Output out = new Output(spec.commandLine().getOut(), options.output());
    HealthCheckResponse response;
    try (GatewayConnection connection = options.connect(1, false)) {
      response = HealthGrpc.newBlockingStub(connection.channel())
          .withDeadlineAfter(options.timeout().toNanos(), TimeUnit.NANOSECONDS)
          .check(HealthCheckRequest.newBuilder().setService(service).build());
    } catch (StatusRuntimeException e) {
      throw new MessageStoreException("Health/Check", e.getStatus(), e);
    }
    if (out.json()) {
      out.json(response);
    } else {
      out.line(response.getStatus().name());
    }
    if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
      throw new CommandFailedException((service.isEmpty() ? "the gateway" : service) + " is "
          + response.getStatus().name());
    }
    return 0;
  }
}
