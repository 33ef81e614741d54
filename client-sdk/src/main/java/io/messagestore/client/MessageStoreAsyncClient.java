package io.messagestore.client;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Deadline;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.Durability;
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
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreFutureStub;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreStub;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.client.internal.CallRunner;
import io.messagestore.client.internal.Requests;
import io.messagestore.client.internal.RunStateUpdater;
import io.messagestore.client.internal.WatchPublisher;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The asynchronous view of a {@link MessageStoreClient}, from {@link MessageStoreClient#async()}:
 * the same calls, on the same channel, token supplier, options and retries, answered with
 * {@link CompletableFuture}s and, for watches, a {@link Flow.Publisher}.
 *
 * <pre>{@code
 * MessageStoreAsyncClient async = client.async();
 * async.send("thread-1", Role.ROLE_USER, "hello")
 *     .thenCompose(sent -> async.get("thread-1", sent.getMessage().getMessageId()))
 *     .thenAccept(m -> System.out.println(m.getContent()));
 * }</pre>
 *
 * <p>A future fails with a {@link MessageStoreException} (wrapped in a
 * {@link java.util.concurrent.CompletionException} by {@code join()}). Cancelling a future
 * cancels the attempt in flight and any retry. Futures complete on gRPC's threads: a dependent
 * stage that blocks should run on an executor of its own ({@code thenApplyAsync(f, executor)}).
 * Calling a closed client throws {@link IllegalStateException} at once. Thread-safe.
 */
public final class MessageStoreAsyncClient {
  private final MessageStoreFutureStub stub;
  private final MessageStoreStub streamingStub;
  private final CallRunner calls;
  private final MessageStoreClientOptions options;
  private final BooleanSupplier closed;
  private final MessageStoreAdminAsyncClient admin;
  private final RunStateUpdater runStates;

  MessageStoreAsyncClient(MessageStoreFutureStub stub, MessageStoreStub streamingStub,
      CallRunner calls, MessageStoreClientOptions options, BooleanSupplier closed,
      MessageStoreAdminAsyncClient admin) {
    this.stub = stub;
    this.streamingStub = streamingStub;
    this.calls = calls;
    this.options = options;
    this.closed = closed;
    this.admin = admin;
    this.runStates = new RunStateUpdater(runId -> getRunState(runId, 0), this::putRunState,
        options.runStateUpdateAttempts());
  }

  /** Stores one message with {@code DURABILITY_CACHE}; see {@link MessageStoreClient#send(String, Role, String)}. */
  public CompletableFuture<SendMessageResponse> send(String threadId, Role role, String content) {
    return send(Requests.send(threadId, role, content, Durability.DURABILITY_CACHE));
  }

  /** Stores one message with {@code DURABILITY_DURABLE}; see {@link MessageStoreClient#sendDurable}. */
  public CompletableFuture<SendMessageResponse> sendDurable(String threadId, Role role, String content) {
    return send(Requests.send(threadId, role, content, Durability.DURABILITY_DURABLE));
  }

  /**
   * Stores one message as given. With {@link MessageStoreClientOptions#autoIdempotencyKeys()}
   * a request without key gets one here, once, so every attempt of this send carries the same
   * key and a retried send is stored once. A request without key (auto keys off) is not
   * retried.
   */
  public CompletableFuture<SendMessageResponse> send(SendMessageRequest request) {
    Objects.requireNonNull(request, "request");
    SendMessageRequest toSend =
        options.autoIdempotencyKeys() ? Requests.withIdempotencyKey(request) : request;
    RetryPolicy policy = toSend.getIdempotencyKey().isEmpty()
        ? RetryPolicy.NONE : options.retryPolicy(CallType.SEND);
    return calls.call("SendMessage", policy, d -> stub.withDeadline(d).sendMessage(toSend));
  }

  /** Stores up to 500 messages of one thread with {@code DURABILITY_CACHE}; see {@link MessageStoreClient#sendBatch(String, List)}. */
  public CompletableFuture<List<SendMessageResponse>> sendBatch(String threadId,
      List<SendMessageRequest> messages) {
    return sendBatch(threadId, messages, Durability.DURABILITY_CACHE);
  }

  /**
   * Stores up to 500 messages of one thread, all or none, with the given durability. Retried
   * only when every message has a key (given, or made here once per message).
   */
  public CompletableFuture<List<SendMessageResponse>> sendBatch(String threadId,
      List<SendMessageRequest> messages, Durability durability) {
    SendMessageBatchRequest request =
        Requests.batch(threadId, messages, durability, options.autoIdempotencyKeys());
    RetryPolicy policy = Requests.allKeyed(request)
        ? options.retryPolicy(CallType.SEND) : RetryPolicy.NONE;
    return CallRunner.map(calls.call("SendMessageBatch", policy,
        d -> stub.withDeadline(d).sendMessageBatch(request)), r -> r.getResultsList());
  }

  /** Reads one message; fails with {@code NOT_FOUND} if there is none. */
  public CompletableFuture<Message> get(String threadId, String messageId) {
    return CallRunner.map(getMessage(threadId, messageId), GetMessageResponse::getMessage);
  }

  /** Reads one message with the tier that served it. */
  public CompletableFuture<GetMessageResponse> getMessage(String threadId, String messageId) {
    GetMessageRequest request = GetMessageRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .setMessageId(Objects.requireNonNull(messageId, "messageId"))
        .build();
    return read("GetMessage", d -> stub.withDeadline(d).getMessage(request));
  }

  /**
   * Reads one page of a thread's messages, {@link MessageStoreClientOptions#pageSize()} long.
   * For every page, pass each answer's {@code next_page_token} until it is empty (or use the
   * blocking view's lazy {@link MessageStoreClient#messages}).
   *
   * @param pageToken "" for the first page
   */
  public CompletableFuture<ListMessagesResponse> listMessages(String threadId, boolean newestFirst,
      String pageToken) {
    ListMessagesRequest request = ListMessagesRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .setPageSize(options.pageSize())
        .setPageToken(Objects.requireNonNull(pageToken, "pageToken"))
        .setNewestFirst(newestFirst)
        .build();
    return read("ListMessages", d -> stub.withDeadline(d).listMessages(request));
  }

  /** Reads one page of the caller's threads, most recently active first. */
  public CompletableFuture<ListThreadsResponse> listThreads(String pageToken) {
    ListThreadsRequest request = ListThreadsRequest.newBuilder()
        .setPageSize(options.pageSize())
        .setPageToken(Objects.requireNonNull(pageToken, "pageToken"))
        .build();
    return read("ListThreads", d -> stub.withDeadline(d).listThreads(request));
  }

  /** Reads every page of the caller's threads, most recently active first. */
  public CompletableFuture<List<ThreadSummary>> threads() {
    return threadsFrom("", new ArrayList<>());
  }

  private CompletableFuture<List<ThreadSummary>> threadsFrom(String token, List<ThreadSummary> into) {
    return listThreads(token).thenCompose(page -> {
      into.addAll(page.getThreadsList());
      if (page.getNextPageToken().isEmpty() || page.getNextPageToken().equals(token)) {
        return CompletableFuture.completedFuture(into);
      }
      return threadsFrom(page.getNextPageToken(), into);
    });
  }

  /** Removes a thread from every tier; completes with how many messages were removed. */
  public CompletableFuture<Long> deleteThread(String threadId) {
    DeleteThreadRequest request = DeleteThreadRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .build();
    return CallRunner.map(calls.call("DeleteThread", options.retryPolicy(CallType.OTHER_WRITE),
        d -> stub.withDeadline(d).deleteThread(request)), r -> r.getDeletedMessages());
  }

  /** Analytics of one thread; see {@link MessageStoreClient#threadStats}. */
  public CompletableFuture<GetThreadStatsResponse> threadStats(String threadId) {
    GetThreadStatsRequest request = GetThreadStatsRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .build();
    return read("GetThreadStats", d -> stub.withDeadline(d).getThreadStats(request));
  }

  /** Writes a run state as given; see {@link MessageStoreClient#putRunState}. */
  public CompletableFuture<PutRunStateResponse> putRunState(PutRunStateRequest request) {
    Objects.requireNonNull(request, "request");
    return calls.call("PutRunState", options.retryPolicy(CallType.OTHER_WRITE),
        d -> stub.withDeadline(d).putRunState(request));
  }

  /** Reads a run's state, the latest when {@code version} is 0. */
  public CompletableFuture<GetRunStateResponse> getRunState(String runId, long version) {
    GetRunStateRequest request = GetRunStateRequest.newBuilder()
        .setRunId(Objects.requireNonNull(runId, "runId"))
        .setVersion(version)
        .build();
    return read("GetRunState", d -> stub.withDeadline(d).getRunState(request));
  }

  /**
   * Changes a run's state with {@code update}, without losing anyone else's change; see
   * {@link MessageStoreClient#updateRunState(String, UnaryOperator)}. Checkpoints with
   * {@code CHECKPOINT_AUTO}.
   */
  public CompletableFuture<RunState> updateRunState(String runId, UnaryOperator<byte[]> update) {
    return updateRunState(runId, update, Checkpoint.CHECKPOINT_AUTO);
  }

  /** Like {@link #updateRunState(String, UnaryOperator)}, writing with {@code checkpoint}. */
  public CompletableFuture<RunState> updateRunState(String runId, UnaryOperator<byte[]> update,
      Checkpoint checkpoint) {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(update, "update");
    Objects.requireNonNull(checkpoint, "checkpoint");
    checkOpen();
    return runStates.update(runId, update, checkpoint);
  }

  /**
   * A thread's events as a {@link Flow.Publisher}. Each subscription is a watch of its own,
   * opened at once: it delivers the messages after {@code afterMessageId} first, then live
   * events, as fast as the subscriber requests them (gRPC flow control: a subscriber that
   * requests nothing pauses the gateway's stream). A broken stream is reopened after the last
   * message delivered, as the {@link CallType#WATCH_RESUME} policy says, so the subscriber gets
   * every message once and in order. {@code THREAD_DELETED} is the last event, followed by
   * {@code onComplete}; {@code PERMISSION_DENIED}, {@code NOT_FOUND} and any status the policy
   * does not retry end it with {@code onError(MessageStoreException)}. Cancelling the
   * subscription ends the stream.
   *
   * @param afterMessageId replay the messages after this id first; "" or null for live events
   *     only (then a stream that breaks before the first message resumes with live events)
   */
  public Flow.Publisher<ThreadEvent> watch(String threadId, String afterMessageId) {
    Objects.requireNonNull(threadId, "threadId");
    checkOpen();
    return new WatchPublisher(threadId, afterMessageId, streamingStub,
        options.retryPolicy(CallType.WATCH_RESUME), options.metrics(), closed);
  }

  /** The operator calls, asynchronous, on this client's channel and token supplier. */
  public MessageStoreAdminAsyncClient admin() {
    return admin;
  }

  private <T> CompletableFuture<T> read(String rpc, Function<Deadline, ListenableFuture<T>> attempt) {
    return calls.call(rpc, options.retryPolicy(CallType.READ), attempt);
  }

  private void checkOpen() {
    if (closed.getAsBoolean()) {
      throw new IllegalStateException("MessageStoreClient is closed");
    }
  }
}
