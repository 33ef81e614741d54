package io.messagestore.client;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.GetTierStatusResponse;
import io.messagestore.api.v1.ListDeadLettersRequest;
import io.messagestore.api.v1.ListDeadLettersResponse;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.RebuildCacheRequest;
import io.messagestore.api.v1.RebuildCacheResponse;
import io.messagestore.api.v1.ReplayDeadLettersRequest;
import io.messagestore.api.v1.ReplayDeadLettersResponse;
import io.messagestore.api.v1.TierStatus;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/** An admin service that keeps dead letters in memory and records what it was asked. */
final class FakeAdmin extends MessageStoreAdminGrpc.MessageStoreAdminImplBase {
  final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
  final Queue<ListDeadLettersRequest> listRequests = new ConcurrentLinkedQueue<>();
  final Queue<ReplayDeadLettersRequest> replayRequests = new ConcurrentLinkedQueue<>();
  final Queue<RebuildCacheRequest> rebuildRequests = new ConcurrentLinkedQueue<>();
  final Queue<CheckConsistencyRequest> checkRequests = new ConcurrentLinkedQueue<>();

  void addDeadLetters(int count) {
    for (int i = 0; i < count; i++) {
      deadLetters.add(DeadLetter.newBuilder().setEntryId("1-" + deadLetters.size()).build());
    }
  }

  @Override
  public void getTierStatus(GetTierStatusRequest request,
      StreamObserver<GetTierStatusResponse> out) {
    out.onNext(GetTierStatusResponse.newBuilder()
        .addTiers(TierStatus.newBuilder().setReachable(true))
        .setDeadLetters(deadLetters.size())
        .build());
    out.onCompleted();
  }

  @Override
  public void listDeadLetters(ListDeadLettersRequest request,
      StreamObserver<ListDeadLettersResponse> out) {
    listRequests.add(request);
    int from = request.getPageToken().isEmpty() ? 0 : Integer.parseInt(request.getPageToken());
    int to = Math.min(deadLetters.size(), from + request.getPageSize());
    out.onNext(ListDeadLettersResponse.newBuilder()
        .addAllDeadLetters(deadLetters.subList(from, to))
        .setNextPageToken(to < deadLetters.size() ? Integer.toString(to) : "")
        .setTotal(deadLetters.size())
        .build());
    out.onCompleted();
  }

  @Override
  public void replayDeadLetters(ReplayDeadLettersRequest request,
      StreamObserver<ReplayDeadLettersResponse> out) {
    replayRequests.add(request);
    long replayed = request.getEntryIdsCount() == 0 ? deadLetters.size() : request.getEntryIdsCount();
    out.onNext(ReplayDeadLettersResponse.newBuilder().setReplayed(replayed).build());
    out.onCompleted();
  }

  @Override
  public void rebuildCache(RebuildCacheRequest request, StreamObserver<RebuildCacheResponse> out) {
    rebuildRequests.add(request);
    out.onNext(RebuildCacheResponse.newBuilder().setJobId("job-" + rebuildRequests.size()).build());
    out.onCompleted();
  }

  @Override
  public void checkConsistency(CheckConsistencyRequest request,
      StreamObserver<CheckConsistencyResponse> out) {
    checkRequests.add(request);
    out.onError(Status.UNIMPLEMENTED.withDescription("not in this fake").asRuntimeException());
  }
}
