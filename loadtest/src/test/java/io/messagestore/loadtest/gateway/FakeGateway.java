package io.messagestore.loadtest.gateway;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A stand-in for the gateway on a real Netty port: health, server reflection, an Echo service
 * that only reflection knows about, and SendMessage behind a bearer-token check. The other
 * MessageStore methods answer UNIMPLEMENTED (WatchThread works when asked for), so the
 * scenario test sees reads fail the way a gateway without them would.
 */
public final class FakeGateway implements GatewayUnderTest {

    public static final String TOKEN = "test-token";
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    /**
     * @param sendDelayMillis how long SendMessage takes
     * @param onStored        called with (thread id, message id) of every stored message
     * @param legacyReflection serve reflection as grpc.reflection.v1alpha only (like older servers)
     * @param watchPersistMillis when positive, WatchThread works and sends MESSAGE_PERSISTED this
     *                           long after each acknowledgement
     * @param watchConfirming WatchThread works and sends MESSAGE_CONFIRMED (with the message) for
     *                        each send, replays those after after_message_id, and answers NOT_FOUND
     *                        for a thread without messages, as the gateway does
     */
    public record Options(long sendDelayMillis, BiConsumer<String, String> onStored, boolean legacyReflection,
                          long watchPersistMillis, boolean watchConfirming) {
        public Options(long sendDelayMillis, BiConsumer<String, String> onStored, boolean legacyReflection) {
            this(sendDelayMillis, onStored, legacyReflection, 0, false);
        }

        public static Options defaults() {
            return new Options(0, (thread, id) -> { }, false, 0, false);
        }

        public Options withLegacyReflection() {
            return new Options(sendDelayMillis, onStored, true, watchPersistMillis, watchConfirming);
        }

        public Options withWatchPersisting(long millis) {
            return new Options(sendDelayMillis, onStored, legacyReflection, millis, watchConfirming);
        }

        public Options withWatchConfirming() {
            return new Options(sendDelayMillis, onStored, legacyReflection, watchPersistMillis, true);
        }

        boolean watching() {
            return watchPersistMillis > 0 || watchConfirming;
        }
    }

    private final Server server;
    private final HealthStatusManager health;
    private final MessageStore store;

    private FakeGateway(Server server, HealthStatusManager health, MessageStore store) {
        this.server = server;
        this.health = health;
        this.store = store;
    }

    /** WatchThread streams open on this thread now. */
    public int watchers(String threadId) {
        return store.watchers.getOrDefault(threadId, List.of()).size();
    }

    public static FakeGateway start(Options options) {
        return start(options, null, null);
    }

    /** With TLS from a PEM certificate chain and PKCS#8 key when both are given. */
    public static FakeGateway start(Options options, java.io.File certChain, java.io.File privateKey) {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("messagestore.v1.MessageStore", ServingStatus.SERVING);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
        if (certChain != null && privateKey != null) {
            builder.useTransportSecurity(certChain, privateKey);
        }
        MessageStore store = new MessageStore(options);
        Server server = builder
                .addService(health.getHealthService())
                .addService(options.legacyReflection()
                        ? legacyReflection() : ProtoReflectionServiceV1.newInstance())
                .addService(ServerInterceptors.intercept(store, new BearerTokenCheck()))
                .addService(EchoService.definition())
                .build();
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new FakeGateway(server, health, store);
    }

    @SuppressWarnings("deprecation")
    private static io.grpc.BindableService legacyReflection() {
        return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    }

    @Override
    public String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public String bearerToken() {
        return TOKEN;
    }

    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** UUIDv7 like the gateway mints: time first, so ids sort by time. */
    static String uuidV7() {
        long millis = System.currentTimeMillis();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = (millis << 16) | 0x7000L | (random.nextLong() & 0x0fffL);
        long lsb = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    private static final class BearerTokenCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            String authorization = headers.get(AUTHORIZATION);
            if (!("Bearer " + TOKEN).equals(authorization)) {
                call.close(Status.UNAUTHENTICATED.withDescription("missing or invalid bearer token"), new Metadata());
                return new ServerCall.Listener<>() { };
            }
            return Contexts.interceptCall(Context.current(), call, headers, next);
        }
    }

    private static final class MessageStore extends MessageStoreGrpc.MessageStoreImplBase {
        private final Options options;
        /** Acknowledged messages per thread by id (= time order), for WatchThread catch-up. */
        private final Map<String, NavigableMap<String, Message>> confirmed = new ConcurrentHashMap<>();
        /** Persisted message ids per thread, in id (= time) order, for WatchThread catch-up. */
        private final Map<String, NavigableSet<String>> persisted = new ConcurrentHashMap<>();
        private final Map<String, List<StreamObserver<ThreadEvent>>> watchers = new ConcurrentHashMap<>();
        private final ScheduledExecutorService persister = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fake-persister");
            t.setDaemon(true);
            return t;
        });

        MessageStore(Options options) {
            this.options = options;
        }

        @Override
        public void watchThread(WatchThreadRequest request, StreamObserver<ThreadEvent> events) {
            if (!options.watching()) {
                super.watchThread(request, events);
                return;
            }
            String thread = request.getThreadId();
            String after = request.getAfterMessageId();
            synchronized (this) {
                if (options.watchConfirming() && !confirmed.containsKey(thread)) {
                    events.onError(Status.NOT_FOUND.withDescription("thread '" + thread + "' not found")
                            .asRuntimeException());
                    return;
                }
                // catch-up first, then live: both under the lock that sends and persist() take
                if (!after.isEmpty()) {
                    for (Message m : confirmed.getOrDefault(thread, new TreeMap<>()).tailMap(after, false).values()) {
                        events.onNext(confirmedEvent(m));
                    }
                }
                for (String id : persisted.getOrDefault(thread, new TreeSet<>()).tailSet(after, false)) {
                    events.onNext(persistedEvent(thread, id));
                }
                watchers.computeIfAbsent(thread, t -> new CopyOnWriteArrayList<>()).add(events);
            }
            ((io.grpc.stub.ServerCallStreamObserver<ThreadEvent>) events).setOnCancelHandler(() ->
                    watchers.getOrDefault(thread, List.of()).remove(events));
        }

        private synchronized void confirm(Message message) {
            confirmed.computeIfAbsent(message.getThreadId(), t -> new ConcurrentSkipListMap<>())
                    .put(message.getMessageId(), message);
            tell(message.getThreadId(), confirmedEvent(message));
        }

        private void tell(String thread, ThreadEvent event) {
            for (StreamObserver<ThreadEvent> watcher : watchers.getOrDefault(thread, List.of())) {
                try {
                    watcher.onNext(event);
                } catch (RuntimeException cancelled) {
                    watchers.get(thread).remove(watcher);
                }
            }
        }

        private static ThreadEvent confirmedEvent(Message message) {
            return ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_CONFIRMED)
                    .setThreadId(message.getThreadId()).setMessageId(message.getMessageId()).setMessage(message)
                    .setOccurredAt(message.getCreatedAt()).build();
        }

        private synchronized void persist(String thread, String id) {
            persisted.computeIfAbsent(thread, t -> new ConcurrentSkipListSet<>()).add(id);
            tell(thread, persistedEvent(thread, id));
        }

        private static ThreadEvent persistedEvent(String thread, String id) {
            Instant now = Instant.now();
            return ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_PERSISTED).setThreadId(thread)
                    .setMessageId(id)
                    .setOccurredAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                    .build();
        }

        @Override
        public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> responses) {
            if (request.getThreadId().isEmpty()) {
                responses.onError(Status.INVALID_ARGUMENT.withDescription("thread_id is required").asRuntimeException());
                return;
            }
            if (options.sendDelayMillis() > 0) {
                try {
                    Thread.sleep(options.sendDelayMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Instant now = Instant.now();
            String id = uuidV7();
            Message message = Message.newBuilder()
                    .setMessageId(id)
                    .setThreadId(request.getThreadId())
                    .setUserId("test-user")
                    .setRole(request.getRole())
                    .setContent(request.getContent())
                    .putAllMetadata(request.getMetadataMap())
                    .setCreatedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                    .build();
            options.onStored().accept(request.getThreadId(), id);
            if (options.watchConfirming()) {
                confirm(message);
            }
            if (options.watchPersistMillis() > 0) {
                persister.schedule(() -> persist(request.getThreadId(), id), options.watchPersistMillis(),
                        TimeUnit.MILLISECONDS);
            }
            responses.onNext(SendMessageResponse.newBuilder().setMessage(message)
                    .setAcknowledgedBy(Tier.TIER_REDIS).build());
            responses.onCompleted();
        }
    }
}
