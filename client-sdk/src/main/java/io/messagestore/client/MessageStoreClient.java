package io.messagestore.client;

import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.GetRunStateRequest;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.GetThreadStatsRequest;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreAdminGrpc.MessageStoreAdminBlockingStub;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.client.internal.BearerTokenCredentials;
import io.messagestore.client.internal.PagingIterator;
import io.messagestore.client.internal.UnaryCaller;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A blocking client for the MessageStore gRPC API.
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
 * before anything is sent. A client built with {@link Builder#unauthenticated()} or
 * {@link #createUnauthenticated} sends no token, for a gateway run with
 * {@code MESSAGESTORE_AUTH=disabled} or a channel whose own interceptors authenticate.
 *
 * <h2>Deadlines</h2>
 * Every RPC gets {@link MessageStoreClientOptions#deadline()}, counted from its start; each
 * page of {@link #messages} and {@link #threads()} is a separate RPC with its own deadline.
 * A {@link #watch} has none: it lasts until it is closed or the thread is deleted.
 *
 * <h2>Idempotency keys</h2>
 * With {@link MessageStoreClientOptions#autoIdempotencyKeys()} on (the default),
 * {@link #send(SendMessageRequest)}, its convenience overloads and {@link #sendBatch} give each
 * request that has no {@code idempotency_key} a random UUID key before sending it. Whatever
 * re-sends that call on the wire (a gRPC retry policy on the channel, a transparent retry)
 * then stores the message once; the server answers the repeat with {@code duplicate = true}.
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
 * <p>This class is the whole blocking API of {@code messagestore.v1.MessageStore} in one place,
 * which is why it is long; most of it is documentation, and the call plumbing it shares with
 * {@link MessageStoreAdminClient} lives in {@code internal}.
 */
public final class MessageStoreClient implements AutoCloseable {

  private static final long CLOSE_GRACE_SECONDS = 5;

  private final ManagedChannel ownedChannel;
  private final UnaryCaller<MessageStoreBlockingStub> calls;
  private final MessageStoreAdminClient admin;
  private final MessageStoreClientOptions options;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** @param tokenSupplier null for a client that sends no token */
  private MessageStoreClient(Channel channel, ManagedChannel ownedChannel,
      Supplier<String> tokenSupplier, MessageStoreClientOptions options) {
    this.ownedChannel = ownedChannel;
    this.options = Objects.requireNonNull(options, "options");
    MessageStoreBlockingStub stub = MessageStoreGrpc.newBlockingStub(channel);
    MessageStoreAdminBlockingStub adminStub = MessageStoreAdminGrpc.newBlockingStub(channel);
    if (tokenSupplier != null) {
      BearerTokenCredentials credentials = new BearerTokenCredentials(tokenSupplier);
      stub = stub.withCallCredentials(credentials);
      adminStub = adminStub.withCallCredentials(credentials);
    }
    this.calls = new UnaryCaller<>(stub, options.deadline(), closed::get);
    this.admin = new MessageStoreAdminClient(
        new UnaryCaller<>(adminStub, options.deadline(), closed::get), options);
  }

  /** Returns a builder for a client that owns (and on {@link #close()} shuts down) its channel. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates a client on a channel the caller owns. {@link #close()} leaves the channel open;
   * shutting it down stays the caller's job.
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

  /**
   * Returns {@code request} with a random UUID idempotency key if it has none, else
   * {@code request} itself. Retrying the returned object is safe: the server stores it once.
   */
  public static SendMessageRequest withIdempotencyKey(SendMessageRequest request) {
    Objects.requireNonNull(request, "request");
    if (!request.getIdempotencyKey().isEmpty()) {
      return request;
    }
    return request.toBuilder().setIdempotencyKey(UUID.randomUUID().toString()).build();
  }

  /**
   * Stores one message with {@code DURABILITY_CACHE}: the answer comes once the message is in
   * Redis and queued for PostgreSQL.
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse send(String threadId, Role role, String content) {
    return send(newRequest(threadId, role, content, Durability.DURABILITY_CACHE));
  }

  /**
   * Stores one message with {@code DURABILITY_DURABLE}: the answer comes after the PostgreSQL
   * commit that holds it.
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse sendDurable(String threadId, Role role, String content) {
    return send(newRequest(threadId, role, content, Durability.DURABILITY_DURABLE));
  }

  /**
   * Stores one message as given, adding an idempotency key if it has none and
   * {@link MessageStoreClientOptions#autoIdempotencyKeys()} is on (see the class comment).
   *
   * @throws MessageStoreException if the server rejects the call or it times out
   */
  public SendMessageResponse send(SendMessageRequest request) {
    Objects.requireNonNull(request, "request");
    SendMessageRequest toSend = options.autoIdempotencyKeys() ? withIdempotencyKey(request) : request;
    return calls.call("SendMessage", s -> s.sendMessage(toSend));
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
    Objects.requireNonNull(threadId, "threadId");
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(durability, "durability");
    SendMessageBatchRequest.Builder batch = SendMessageBatchRequest.newBuilder()
        .setThreadId(threadId)
        .setDurability(durability);
    for (SendMessageRequest message : messages) {
      batch.addMessages(options.autoIdempotencyKeys() ? withIdempotencyKey(message) : message);
    }
    SendMessageBatchRequest request = batch.build();
    return calls.call("SendMessageBatch", s -> s.sendMessageBatch(request)).getResultsList();
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
    GetMessageRequest request = GetMessageRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .setMessageId(Objects.requireNonNull(messageId, "messageId"))
        .build();
    return calls.call("GetMessage", s -> s.getMessage(request));
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
      ListMessagesRequest request = ListMessagesRequest.newBuilder()
          .setThreadId(threadId)
          .setPageSize(options.pageSize())
          .setPageToken(token)
          .setNewestFirst(newestFirst)
          .build();
      ListMessagesResponse page = calls.call("ListMessages", s -> s.listMessages(request));
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
      ListThreadsRequest request = ListThreadsRequest.newBuilder()
          .setPageSize(options.pageSize())
          .setPageToken(token)
          .build();
      ListThreadsResponse page = calls.call("ListThreads", s -> s.listThreads(request));
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
    DeleteThreadRequest request = DeleteThreadRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .build();
    return calls.call("DeleteThread", s -> s.deleteThread(request)).getDeletedMessages();
  }

  /**
   * Analytics of one thread: message count, counts per role, content bytes, first and last
   * message times.
   *
   * @throws MessageStoreException if the call fails
   */
  public GetThreadStatsResponse threadStats(String threadId) {
    GetThreadStatsRequest request = GetThreadStatsRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .build();
    return calls.call("GetThreadStats", s -> s.getThreadStats(request));
  }

  /**
   * Writes the state of an agent run. With {@code expected_version} other than 0 the write
   * applies only if the run is at that version; otherwise the call fails with {@code ABORTED}
   * naming the current version.
   *
   * @throws MessageStoreException {@code ABORTED} on a version conflict, or any other failure
   */
  public PutRunStateResponse putRunState(PutRunStateRequest request) {
    Objects.requireNonNull(request, "request");
    return calls.call("PutRunState", s -> s.putRunState(request));
  }

  /**
   * Reads a run's state: the latest version when {@code version} is 0, else that version
   * (kept only for runs written with {@code CHECKPOINT_FULL}).
   *
   * @throws MessageStoreException {@code NOT_FOUND} if there is no such run or version, or any
   *     other failure
   */
  public GetRunStateResponse getRunState(String runId, long version) {
    GetRunStateRequest request = GetRunStateRequest.newBuilder()
        .setRunId(Objects.requireNonNull(runId, "runId"))
        .setVersion(version)
        .build();
    return calls.call("GetRunState", s -> s.getRunState(request));
  }

  /**
   * Watches a thread's events as they happen. The call is made when the returned watch is
   * first read; see {@link ThreadWatch} for how it resumes after a broken stream.
   *
   * @param afterMessageId replay the thread's messages after this id first; {@code ""} or null
   *     for live events only
   */
  public ThreadWatch watch(String threadId, String afterMessageId) {
    Objects.requireNonNull(threadId, "threadId");
    return new ThreadWatch(threadId, afterMessageId,
        request -> calls.stub().watchThread(request), ThreadWatch.DEFAULT_FIRST_BACKOFF);
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

  private static SendMessageRequest newRequest(String threadId, Role role, String content,
      Durability durability) {
    return SendMessageRequest.newBuilder()
        .setThreadId(Objects.requireNonNull(threadId, "threadId"))
        .setRole(Objects.requireNonNull(role, "role"))
        .setContent(Objects.requireNonNull(content, "content"))
        .setDurability(durability)
        .build();
  }

  /** Builds a {@link MessageStoreClient} with its own channel; not thread-safe. */
  public static final class Builder {
    private String target;
    private ChannelCredentials credentials;
    private Supplier<String> tokenSupplier;
    private boolean unauthenticated;
    private MessageStoreClientOptions options = MessageStoreClientOptions.defaults();

    private Builder() {}

    /**
     * Sets the server to connect to, as {@code host:port} or a gRPC target URI such as
     * {@code dns:///messagestore.internal:50051}. Required.
     */
    public Builder target(String target) {
      if (target == null || target.isBlank()) {
        throw new IllegalArgumentException("target must not be blank, got '" + target + "'");
      }
      this.target = target;
      return this;
    }

    /**
     * Connects without TLS. Bearer tokens then travel in clear text: only for a server on
     * localhost or behind a TLS-terminating proxy on a trusted network.
     */
    public Builder plaintext() {
      return credentials(InsecureChannelCredentials.create());
    }

    /**
     * Sets the channel credentials, e.g. {@link TlsChannelCredentials} with a private CA.
     * Defaults to TLS with the JVM's trusted roots.
     */
    public Builder credentials(ChannelCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Sets where the JWT comes from. Called once per RPC, possibly from a gRPC thread, so it
     * must be thread-safe; it may block briefly to refresh a token. Required.
     */
    public Builder tokenSupplier(Supplier<String> tokenSupplier) {
      this.tokenSupplier = Objects.requireNonNull(tokenSupplier, "tokenSupplier");
      this.unauthenticated = false;
      return this;
    }

    /**
     * Sends no token, for a gateway run with {@code MESSAGESTORE_AUTH=disabled} (loopback
     * development only). Replaces a token supplier set earlier.
     */
    public Builder unauthenticated() {
      this.unauthenticated = true;
      this.tokenSupplier = null;
      return this;
    }

    /** Sets the per-call behaviour; {@link MessageStoreClientOptions#defaults()} if not called. */
    public Builder options(MessageStoreClientOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /**
     * Creates the channel and the client. No connection is made until the first call.
     *
     * @throws IllegalStateException if the target is missing, or the token supplier is and
     *     {@link #unauthenticated()} was not called
     */
    public MessageStoreClient build() {
      if (target == null) {
        throw new IllegalStateException("target is required");
      }
      if (tokenSupplier == null && !unauthenticated) {
        throw new IllegalStateException("tokenSupplier is required");
      }
      ChannelCredentials channelCredentials =
          credentials != null ? credentials : TlsChannelCredentials.create();
      ManagedChannel channel = Grpc.newChannelBuilder(target, channelCredentials).build();
      return new MessageStoreClient(channel, channel, tokenSupplier, options);
    }
  }
}
