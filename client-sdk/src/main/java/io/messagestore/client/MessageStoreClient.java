package io.messagestore.client;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.client.internal.BearerTokenCredentials;
import io.messagestore.client.internal.CallRunner;
import io.messagestore.client.internal.PagingIterator;
import io.messagestore.client.internal.Requests;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A client of the MessageStore gRPC API: this blocking view, and the asynchronous one from
 * {@link #async()} on the same channel (as lettuce's sync and async views share a connection).
 *
 * <pre>{@code
 * try (MessageStoreClient client = MessageStoreClient.builder()
 *     .target("messagestore.example.com:443")          // TLS unless plaintext() is called
 *     .tokenSupplier(tokens::currentJwt)
 *     .build()) {
 *   client.send("thread-1", Role.ROLE_USER, "hello");
 *   client.messages("thread-1", false).forEach(m -> System.out.println(m.getContent()));
 * }
 * }</pre>
 *
 * <h2>Authentication</h2>
 * Every call carries {@code authorization: Bearer <token>}. The token supplier is asked once
 * per call (per page when paging), so it can hand out a rotated token at any time. A supplier
 * that throws or returns null or a blank string fails the call with {@code UNAUTHENTICATED}
 * before anything is sent. A client built with {@link MessageStoreClientBuilder#unauthenticated()} or
 * {@link #createUnauthenticated} sends no token, for a gateway run with
 * {@code MESSAGESTORE_AUTH=disabled} or a channel whose own interceptors authenticate.
 *
 * <h2>Deadlines and retries</h2>
 * Every attempt of an RPC gets {@link MessageStoreClientOptions#deadline()}, counted from its
 * start; each page of {@link #messages} and {@link #threads()} is a separate RPC with its own
 * deadline. A failed attempt is repeated as the {@link RetryPolicy} of its {@link CallType}
 * says: by default sends and reads up to 5 attempts within 30 s on {@code UNAVAILABLE},
 * {@code RESOURCE_EXHAUSTED} and {@code DEADLINE_EXCEEDED}, with exponential backoff and
 * jitter; other writes ({@code PutRunState}, {@code DeleteThread}) not at all. A {@link #watch}
 * has no deadline: it lasts until it is closed or the thread is deleted, and resumes itself.
 *
 * <h2>Several gateways</h2>
 * A client built with {@link #builder()} takes a target list ({@code "h1:50051,h2:50051"}) or a
 * DNS name ({@code "dns:///messagestore.internal:50051"}), spreads calls round-robin over every
 * address, and asks each one's {@code grpc.health.v1} service, so that an instance that is
 * stopping or gone takes no more calls; a retry goes to another one.
 *
 * <h2>Idempotency keys</h2>
 * With {@link MessageStoreClientOptions#autoIdempotencyKeys()} on (the default),
 * {@link #send(SendMessageRequest)}, its convenience overloads and {@link #sendBatch} give each
 * request that has no {@code idempotency_key} a random UUID key before sending it, once per
 * call: every retry of that call sends the same key, so the message is stored once even when
 * an attempt was stored and only its answer got lost; the server answers the repeat with
 * {@code duplicate = true}. A send without a key (auto keys off, none given) is not retried.
 * Protobuf requests are immutable, so the key cannot be written back into the caller's object:
 * passing the same keyless request to {@code send} twice sends two different keys and stores
 * two messages. To retry safely yourself, give the request a key first, for example with
 * {@link #withIdempotencyKey(SendMessageRequest)}, and retry that object. A key the caller set
 * is always sent unchanged.
 *
 * <h2>Errors</h2>
 * Failed calls throw {@link MessageStoreException} with the gRPC status code and the server's
 * description. For the lazy {@link #messages} stream that happens while it is consumed.
 *
 * <p>A client is thread-safe and meant to be shared. The streams it returns are not.
 *
 * <p>Requests and results are the generated protobuf messages of {@code io.messagestore.api.v1}
 * (immutable, with builders and a JSON mapping, the types the {@code .proto} documents); gRPC's
 * own machinery (stubs, {@code ListenableFuture}, {@code StatusRuntimeException}) stays inside
 * the SDK.
 */
public final class MessageStoreClient implements AutoCloseable {

  private static final long CLOSE_GRACE_SECONDS = 5;

  private final Channel channel;
  private final ManagedChannel ownedChannel;
  private final MessageStoreAsyncClient async;
  private final MessageStoreAdminClient admin;
  private final MessageStoreGrpc.MessageStoreBlockingStub watchStub;
  private final MessageStoreClientOptions options;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** @param tokenSupplier null for a client that sends no token */
  MessageStoreClient(Channel channel, ManagedChannel ownedChannel,
      Supplier<String> tokenSupplier, MessageStoreClientOptions options) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.ownedChannel = ownedChannel;
    this.options = Objects.requireNonNull(options, "options");
    var futureStub = MessageStoreGrpc.newFutureStub(channel);
    var streamingStub = MessageStoreGrpc.newStub(channel);
    var blockingStub = MessageStoreGrpc.newBlockingStub(channel);
    var adminStub = MessageStoreAdminGrpc.newFutureStub(channel);
    if (tokenSupplier != null) {
      BearerTokenCredentials credentials = new BearerTokenCredentials(tokenSupplier);
      futureStub = futureStub.withCallCredentials(credentials);
      streamingStub = streamingStub.withCallCredentials(credentials);
      blockingStub = blockingStub.withCallCredentials(credentials);
      adminStub = adminStub.withCallCredentials(credentials);
    }
    this.watchStub = blockingStub;
    CallRunner calls = new CallRunner(options.deadline(), options.metrics(), closed::get);
    MessageStoreAdminAsyncClient adminAsync = new MessageStoreAdminAsyncClient(adminStub, calls, options);
    this.async = new MessageStoreAsyncClient(futureStub, streamingStub, calls, options, closed::get,
        adminAsync);
    this.admin = new MessageStoreAdminClient(adminAsync, options);
  }

  /** Returns a builder for a client that owns (and on {@link #close()} shuts down) its channel. */
  public static MessageStoreClientBuilder builder() {
    return new MessageStoreClientBuilder();
  }

  /**
   * Creates a client on a channel the caller owns. {@link #close()} leaves the channel open;
   * shutting it down stays the caller's job. The channel's own load balancing applies (the
   * builder's round-robin and health checking are set up only on channels it makes).
   *
   * @param channel the channel to call on, e.g. a {@link ManagedChannel}
   * @param tokenSupplier returns the JWT for each call
   * @param options per-call behaviour; {@link MessageStoreClientOptions#defaults()} if unsure
   */
  public static MessageStoreClient create(Channel channel, Supplier<String> tokenSupplier,
      MessageStoreClientOptions options) {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(tokenSupplier, "tokenSupplier");
    return new MessageStoreClient(channel, null, tokenSupplier, options);
  }

  /**
   * Creates a client on a channel the caller owns that sends no token: for a gateway run with
   * {@code MESSAGESTORE_AUTH=disabled} (loopback development only), or a channel whose own
   * interceptors add the credentials. {@link #close()} leaves the channel open.
   */
  public static MessageStoreClient createUnauthenticated(Channel channel,
      MessageStoreClientOptions options) {
    Objects.requireNonNull(channel, "channel");
    return new MessageStoreClient(channel, null, null, options);
  }

  /** The options this client applies to every call. */
  public MessageStoreClientOptions options() {
    return options;
  }

  /** The asynchronous view: the same calls on the same channel, answered with futures. */
  public MessageStoreAsyncClient async() {
    return async;
  }

  /**
   * The channel the client calls on, for other services the gateways serve (such as
   * {@code grpc.health.v1} or server reflection). It carries no token; it is shut down by
   * {@link #close()} when the builder made it.
   */
  public Channel channel() {
    return channel;
  }

  /**
   * Returns {@code request} with a random UUID idempotency key if it has none, else
   * {@code request} itself. Retrying the returned object is safe: the server stores it once.
   */
  public static SendMessageRequest withIdempotencyKey(SendMessageRequest request) {
    return Requests.withIdempotencyKey(request);
  }

  /**
   * Stores one message with {@code DURABILITY_CACHE}: the answer comes once the message is in
   * Redis and queued for PostgreSQL.
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse send(String threadId, Role role, String content) {
    return CallRunner.await("SendMessage", async.send(threadId, role, content));
  }

  /**
   * Stores one message with {@code DURABILITY_DURABLE}: the answer comes after the PostgreSQL
   * commit that holds it.
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse sendDurable(String threadId, Role role, String content) {
    return CallRunner.await("SendMessage", async.sendDurable(threadId, role, content));
  }

  /**
   * Stores one message as given, adding an idempotency key if it has none and
   * {@link MessageStoreClientOptions#autoIdempotencyKeys()} is on (see the class comment).
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse send(SendMessageRequest request) {
    return CallRunner.await("SendMessage", async.send(request));
  }

  /**
   * Stores up to 500 messages of one thread, all or none, in order, with
   * {@code DURABILITY_CACHE}. Each message's {@code thread_id} must be empty or
   * {@code threadId}. Messages without an idempotency key get one as in
   * {@link #send(SendMessageRequest)}.
   *
   * @return one result per message, in request order
   * @throws MessageStoreException if the server rejects the batch (then nothing of it was
   *     stored: {@code INVALID_ARGUMENT}, {@code PERMISSION_DENIED}, {@code RESOURCE_EXHAUSTED};
   *     see {@link MessageStoreException}), no tier can take it ({@code UNAVAILABLE}), or the call
   *     times out
   */
  public List<SendMessageResponse> sendBatch(String threadId, List<SendMessageRequest> messages) {
    return sendBatch(threadId, messages, Durability.DURABILITY_CACHE);
  }

  /**
   * Like {@link #sendBatch(String, List)} with the given durability for the whole batch.
   *
   * @throws MessageStoreException if the server rejects the batch or the call times out
   */
  public List<SendMessageResponse> sendBatch(String threadId, List<SendMessageRequest> messages,
      Durability durability) {
    return CallRunner.await("SendMessageBatch", async.sendBatch(threadId, messages, durability));
  }

  /**
   * Reads one message.
   *
   * @throws MessageStoreException {@code NOT_FOUND} if there is no such message, or any other
   *     failure
   */
  public Message get(String threadId, String messageId) {
    return getMessage(threadId, messageId).getMessage();
  }

  /**
   * Reads one message, with the tier that served it ({@code served_from}).
   *
   * @throws MessageStoreException {@code NOT_FOUND} if there is no such message, or any other
   *     failure
   */
  public GetMessageResponse getMessage(String threadId, String messageId) {
    return CallRunner.await("GetMessage", async.getMessage(threadId, messageId));
  }

  /** Same as {@link #messages(String, boolean) messages(threadId, false)}: oldest first. */
  public Stream<Message> messages(String threadId) {
    return messages(threadId, false);
  }

  /**
   * Returns every message of a thread as a lazy, sequential stream in message-id order.
   *
   * <p>Nothing is fetched until the stream is consumed; then pages of
   * {@link MessageStoreClientOptions#pageSize()} messages are requested one at a time, the next
   * only once the previous one is used up. A short-circuiting operation such as
   * {@code findFirst()} or {@code limit(n)} therefore reads only the pages it needs. Messages
   * written while the stream is consumed may or may not appear.
   *
   * @param newestFirst newest message first when true, oldest first when false
   * @throws MessageStoreException from the stream's terminal operation when a page fails
   */
  public Stream<Message> messages(String threadId, boolean newestFirst) {
    Objects.requireNonNull(threadId, "threadId");
    return PagingIterator.stream("ListMessages", token -> {
      ListMessagesResponse page =
          CallRunner.await("ListMessages", async.listMessages(threadId, newestFirst, token));
      return new PagingIterator.Page<>(page.getMessagesList(), page.getNextPageToken());
    });
  }

  /**
   * Returns all of the caller's threads, most recently active first, reading every page.
   *
   * @throws MessageStoreException if any page fails
   */
  public List<ThreadSummary> threads() {
    Iterator<ThreadSummary> pages = new PagingIterator<>("ListThreads", token -> {
      ListThreadsResponse page = CallRunner.await("ListThreads", async.listThreads(token));
      return new PagingIterator.Page<>(page.getThreadsList(), page.getNextPageToken());
    });
    List<ThreadSummary> threads = new ArrayList<>();
    pages.forEachRemaining(threads::add);
    return threads;
  }

  /**
   * Removes a thread and all its messages from every tier. Only the thread's owner or an admin
   * may delete it.
   *
   * @return how many messages were removed
   * @throws MessageStoreException {@code PERMISSION_DENIED} for another user's thread, or any
   *     other failure
   */
  public long deleteThread(String threadId) {
    return CallRunner.await("DeleteThread", async.deleteThread(threadId));
  }

  /**
   * Analytics of one thread: message count, counts per role, content bytes, first and last
   * message times.
   *
   * @throws MessageStoreException if the call fails
   */
  public GetThreadStatsResponse threadStats(String threadId) {
    return CallRunner.await("GetThreadStats", async.threadStats(threadId));
  }

  /**
   * Writes the state of an agent run. With {@code expected_version} other than 0 the write
   * applies only if the run is at that version; otherwise the call fails with {@code ABORTED}
   * naming the current version. Not retried by default ({@link CallType#OTHER_WRITE}): a write
   * whose answer got lost may have been applied.
   *
   * @throws MessageStoreException {@code ABORTED} on a version conflict, or any other failure
   */
  public PutRunStateResponse putRunState(PutRunStateRequest request) {
    return CallRunner.await("PutRunState", async.putRunState(request));
  }

  /**
   * Reads a run's state: the latest version when {@code version} is 0, else that version
   * (kept only for runs written with {@code CHECKPOINT_FULL}).
   *
   * @throws MessageStoreException {@code NOT_FOUND} if there is no such run or version, or any
   *     other failure
   */
  public GetRunStateResponse getRunState(String runId, long version) {
    return CallRunner.await("GetRunState", async.getRunState(runId, version));
  }

  /**
   * Changes a run's state without losing anyone else's change: reads the latest version, gives
   * its state to {@code update} (null when there is no such run yet) and writes what it returns
   * with {@code expected_version} = the version read; when another writer got there first
   * ({@code ABORTED}) it reads again and applies {@code update} to the newer state, up to
   * {@link MessageStoreClientOptions#runStateUpdateAttempts()} rounds. {@code update} may
   * therefore run several times and must have no other effects. The thread and TTL class of
   * the run are kept; the write checkpoints with {@code CHECKPOINT_AUTO}.
   *
   * <p>Limits: the first write of a run is unconditional (the API has no "create if absent"),
   * so create a run before several writers update it. A write whose answer is lost
   * ({@code UNAVAILABLE}) fails the update, as it may have been applied: read the run to know.
   * With {@link CallType#OTHER_WRITE} retries turned on, such a write is retried; when the retry
   * is refused ({@code ABORTED}) the run is read, and if it holds exactly this write's state at
   * the version it asked for, the update is done (applied once). Should another writer have
   * moved the run on in between, that cannot be told apart from a lost round and
   * {@code update} is applied again.
   *
   * <pre>{@code
   * RunState after = client.updateRunState("run-7", state -> increment(state));
   * }</pre>
   *
   * @return the version written
   * @throws MessageStoreException {@code ABORTED} when every round lost, or the run is
   *     completed; any other failure of a read or write
   */
  public RunState updateRunState(String runId, UnaryOperator<byte[]> update) {
    return updateRunState(runId, update, Checkpoint.CHECKPOINT_AUTO);
  }

  /** Like {@link #updateRunState(String, UnaryOperator)}, writing with {@code checkpoint}. */
  public RunState updateRunState(String runId, UnaryOperator<byte[]> update, Checkpoint checkpoint) {
    return CallRunner.await("PutRunState", async.updateRunState(runId, update, checkpoint));
  }

  /**
   * Watches a thread's events as they happen. The call is made when the returned watch is
   * first read; see {@link ThreadWatch} for how it resumes after a broken stream. For a
   * non-blocking watch use {@code async().watch(...)}.
   *
   * @param afterMessageId replay the thread's messages after this id first; {@code ""} or null
   *     for live events only
   */
  public ThreadWatch watch(String threadId, String afterMessageId) {
    Objects.requireNonNull(threadId, "threadId");
    checkOpen();
    return new ThreadWatch(threadId, afterMessageId, request -> {
      checkOpen();
      return watchStub.watchThread(request);
    }, options.retryPolicy(CallType.WATCH_RESUME), options.metrics());
  }

  /** The operator calls, on this client's channel and with its token supplier and options. */
  public MessageStoreAdminClient admin() {
    return admin;
  }

  /**
   * Closes the client. If the builder created the channel, it is shut down, waiting up to
   * 5 seconds for calls in flight; a channel passed to {@link #create} is left open.
   * Calling a closed client throws {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || ownedChannel == null) {
      return;
    }
    ownedChannel.shutdown();
    try {
      if (!ownedChannel.awaitTermination(CLOSE_GRACE_SECONDS, TimeUnit.SECONDS)) {
        ownedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      ownedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("MessageStoreClient is closed");
    }
  }
}
