package io.messagestore.client;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.DeleteThreadResponse;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.GetRunStateRequest;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.GetThreadStatsRequest;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageBatchResponse;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.api.v1.WatchThreadRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

/**
 * A MessageStore that keeps one thread's messages in memory, pages by list offset and records
 * what it was asked, so tests can check what the client put on the wire.
 */
final class FakeMessageStore extends MessageStoreGrpc.MessageStoreImplBase {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  final List<Message> messages = new CopyOnWriteArrayList<>();
  final List<ThreadSummary> threads = new CopyOnWriteArrayList<>();
  final Queue<String> authorizationHeaders = new ConcurrentLinkedQueue<>();
  final Queue<SendMessageRequest> sendRequests = new ConcurrentLinkedQueue<>();
  final Queue<SendMessageBatchRequest> batchRequests = new ConcurrentLinkedQueue<>();
  final Queue<ListMessagesRequest> listMessagesRequests = new ConcurrentLinkedQueue<>();
  final Queue<ListThreadsRequest> listThreadsRequests = new ConcurrentLinkedQueue<>();
  final Queue<DeleteThreadRequest> deleteRequests = new ConcurrentLinkedQueue<>();
  final Queue<WatchThreadRequest> watchRequests = new ConcurrentLinkedQueue<>();
  final Map<String, RunState> runStates = new ConcurrentHashMap<>();
  /**
   * What each WatchThread call does, one script per call in order: its events, then how it
   * ends. A call without a script stays open, sending nothing.
   */
  final BlockingQueue<WatchScript> watchScripts = new LinkedBlockingQueue<>();

  /** One WatchThread call: these events, then {@code end} (null: complete with OK). */
  record WatchScript(List<ThreadEvent> events, Status end, boolean stayOpen) {
    static WatchScript thenFail(Status end, ThreadEvent... events) {
      return new WatchScript(List.of(events), end, false);
    }

    static WatchScript thenComplete(ThreadEvent... events) {
      return new WatchScript(List.of(events), null, false);
    }

    static WatchScript thenStayOpen(ThreadEvent... events) {
      return new WatchScript(List.of(events), null, true);
    }
  }

  /** When set, every RPC fails with this status. */
  volatile Status failWith;
  /** The next this-many RPCs fail with {@link #failFirstWith}, then they are answered again. */
  final java.util.concurrent.atomic.AtomicInteger failFirst = new java.util.concurrent.atomic.AtomicInteger();
  volatile Status failFirstWith = Status.UNAVAILABLE.withDescription("gateway restarting");
  final java.util.concurrent.atomic.AtomicInteger getMessageCalls = new java.util.concurrent.atomic.AtomicInteger();
  final Queue<PutRunStateRequest> putRunStateRequests = new ConcurrentLinkedQueue<>();
  final Queue<GetRunStateRequest> getRunStateRequests = new ConcurrentLinkedQueue<>();
  /** When set, every RPC is left unanswered until the client gives up. */
  volatile boolean neverAnswer;

  /** The next this-many PutRunState calls are applied, but answered UNAVAILABLE (a lost answer). */
  final java.util.concurrent.atomic.AtomicInteger losePutRunStateAnswers = new java.util.concurrent.atomic.AtomicInteger();
  /** Records the authorization header of every call, even of calls that then fail. */
  ServerInterceptor headerRecorder() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String authorization = headers.get(AUTHORIZATION);
        authorizationHeaders.add(authorization == null ? "<none>" : authorization);
        return next.startCall(call, headers);
      }
    };
  }

  void addMessages(String threadId, int count) {
    for (int i = 0; i < count; i++) {
      messages.add(Message.newBuilder()
          .setThreadId(threadId)
          .setMessageId(String.format("m-%04d", messages.size()))
          .setContent("message " + messages.size())
          .build());
    }
  }

  @Override
  public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> out) {
    sendRequests.add(request);
    answer(out, () -> stored(request));
  }

  @Override
  public void sendMessageBatch(SendMessageBatchRequest request,
      StreamObserver<SendMessageBatchResponse> out) {
    batchRequests.add(request);
    answer(out, () -> {
      SendMessageBatchResponse.Builder response = SendMessageBatchResponse.newBuilder();
      request.getMessagesList().forEach(m -> response.addResults(stored(m)));
      return response.build();
    });
  }

  @Override
  public void getMessage(GetMessageRequest request, StreamObserver<GetMessageResponse> out) {
    getMessageCalls.incrementAndGet();
    answer(out, () -> messages.stream()
        .filter(m -> m.getMessageId().equals(request.getMessageId()))
        .findFirst()
        .map(m -> GetMessageResponse.newBuilder().setMessage(m).build())
        .orElseThrow(() -> Status.NOT_FOUND
            .withDescription("message '" + request.getMessageId() + "' not found")
            .asRuntimeException()));
  }

  @Override
  public void listMessages(ListMessagesRequest request, StreamObserver<ListMessagesResponse> out) {
    listMessagesRequests.add(request);
    answer(out, () -> {
      List<Message> ordered = new ArrayList<>(messages);
      if (request.getNewestFirst()) {
        Collections.reverse(ordered);
      }
      Page<Message> page = page(ordered, request.getPageSize(), request.getPageToken());
      return ListMessagesResponse.newBuilder()
          .addAllMessages(page.items).setNextPageToken(page.nextToken).build();
    });
  }

  @Override
  public void listThreads(ListThreadsRequest request, StreamObserver<ListThreadsResponse> out) {
    listThreadsRequests.add(request);
    answer(out, () -> {
      Page<ThreadSummary> page = page(threads, request.getPageSize(), request.getPageToken());
      return ListThreadsResponse.newBuilder()
          .addAllThreads(page.items).setNextPageToken(page.nextToken).build();
    });
  }

  @Override
  public void deleteThread(DeleteThreadRequest request, StreamObserver<DeleteThreadResponse> out) {
    deleteRequests.add(request);
    answer(out, () -> {
      long removed = messages.stream().filter(m -> m.getThreadId().equals(request.getThreadId())).count();
      messages.removeIf(m -> m.getThreadId().equals(request.getThreadId()));
      return DeleteThreadResponse.newBuilder().setDeletedMessages(removed).build();
    });
  }

  @Override
  public void getThreadStats(GetThreadStatsRequest request,
      StreamObserver<GetThreadStatsResponse> out) {
    answer(out, () -> GetThreadStatsResponse.newBuilder()
        .setThreadId(request.getThreadId())
        .setMessageCount(messages.stream()
            .filter(m -> m.getThreadId().equals(request.getThreadId())).count())
        .build());
  }

  @Override
  public void putRunState(PutRunStateRequest request, StreamObserver<PutRunStateResponse> out) {
    putRunStateRequests.add(request);
    answer(out, () -> {
      RunState current = runStates.get(request.getRunId());
      long version = current == null ? 0 : current.getVersion();
      if (request.getExpectedVersion() != 0 && request.getExpectedVersion() != version) {
        throw Status.ABORTED.withDescription("run '" + request.getRunId() + "' is at version "
            + version).asRuntimeException();
      }
      RunState next = RunState.newBuilder()
          .setRunId(request.getRunId())
          .setThreadId(request.getThreadId())
          .setState(request.getState())
          .setVersion(version + 1)
          .setCompleted(request.getCompleted())
          .build();
      runStates.put(request.getRunId(), next);
      if (losePutRunStateAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw Status.UNAVAILABLE.withDescription("connection lost after the write").asRuntimeException();
      }
      return PutRunStateResponse.newBuilder().setRunState(next).build();
    });
  }

  @Override
  public void getRunState(GetRunStateRequest request, StreamObserver<GetRunStateResponse> out) {
    getRunStateRequests.add(request);
    answer(out, () -> {
      RunState state = runStates.get(request.getRunId());
      if (state == null) {
        throw Status.NOT_FOUND.withDescription("run '" + request.getRunId() + "' not found")
            .asRuntimeException();
      }
      return GetRunStateResponse.newBuilder().setRunState(state).build();
    });
  }

  @Override
  public void watchThread(WatchThreadRequest request, StreamObserver<ThreadEvent> out) {
    watchRequests.add(request);
    WatchScript script = watchScripts.poll();
    if (script == null) {
      return;
    }
    script.events().forEach(out::onNext);
    if (script.stayOpen()) {
      return;
    }
    if (script.end() == null) {
      out.onCompleted();
    } else {
      out.onError(script.end().asRuntimeException());
    }
  }

  private SendMessageResponse stored(SendMessageRequest request) {
    return SendMessageResponse.newBuilder()
        .setMessage(Message.newBuilder()
            .setMessageId("m-" + request.getIdempotencyKey())
            .setThreadId(request.getThreadId())
            .setRole(request.getRole())
            .setContent(request.getContent()))
        .build();
  }

  private record Page<T>(List<T> items, String nextToken) {}

  private static <T> Page<T> page(List<T> all, int pageSize, String token) {
    int size = pageSize == 0 ? 50 : pageSize;
    int from = token.isEmpty() ? 0 : Integer.parseInt(token);
    int to = Math.min(all.size(), from + size);
    return new Page<>(all.subList(from, to), to < all.size() ? Integer.toString(to) : "");
  }

  private <R> void answer(StreamObserver<R> out, Supplier<R> response) {
    if (neverAnswer) {
      return;
    }
    Status failure = failWith;
    if (failure == null && failFirst.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      failure = failFirstWith;
    }
    if (failure != null) {
      out.onError(failure.asRuntimeException());
      return;
    }
    try {
      R answer;
      // One at a time, as the real gateway's compare-and-set is atomic.
      synchronized (this) {
        answer = response.get();
      }
      out.onNext(answer);
      out.onCompleted();
    } catch (StatusRuntimeException e) {
      out.onError(e);
    }
  }
}
