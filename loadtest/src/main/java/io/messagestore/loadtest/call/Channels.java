package io.messagestore.loadtest.call;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ClientCalls;
import io.messagestore.loadtest.LoadTestException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Opens the channels of a run and makes sure they can connect before any call is measured. */
public final class Channels {

    private Channels() {
    }

    /**
     * The channels of a run and the event loops they run on. The rate-limited dispatcher is
     * scheduled on the first event loop, so with one connection starting a call, writing it and
     * reading its answer all happen on one thread: no cross-thread wake-up per call.
     */
    public record ChannelSet(List<ManagedChannel> channels, EventLoopGroup eventLoops) implements AutoCloseable {
        @Override
        public void close() {
            shutdown(channels);
            eventLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * Opens {@code options.connections()} separate channels, each its own TCP connection, on
     * {@code eventLoopThreads} event loop threads of this tool's own (epoll when available).
     */
    public static ChannelSet open(ConnectionOptions options, int eventLoopThreads) {
        ChannelCredentials credentials = credentials(options);
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(Math.max(1, eventLoopThreads),
                new DefaultThreadFactory("loadtest-eventloop", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        List<ManagedChannel> channels = new ArrayList<>(options.connections());
        for (int i = 0; i < options.connections(); i++) {
            NettyChannelBuilder builder = NettyChannelBuilder.forTarget(options.host(), credentials)
                    .eventLoopGroup(group)
                    .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    // Callbacks run on the Netty event loop: no executor hop per call.
                    .directExecutor()
                    // Retries buffer every request for replay: CPU we do not want to spend,
                    // and a load test must see each failure anyway.
                    .disableRetry()
                    .disableServiceConfigLookUp()
                    .maxInboundMessageSize(64 * 1024 * 1024)
                    .userAgent("messagestore-loadtest");
            String authority = options.authority() != null ? options.authority() : options.cname();
            if (authority != null) {
                builder.overrideAuthority(authority);
            }
            channels.add(builder.build());
        }
        return new ChannelSet(channels, group);
    }

    private static ChannelCredentials credentials(ConnectionOptions options) {
        if (options.insecure()) {
            return InsecureChannelCredentials.create();
        }
        try {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            if (options.skipTlsVerify()) {
                tls.trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers());
            } else if (options.caCert() != null) {
                tls.trustManager(options.caCert().toFile());
            }
            if (options.cert() != null || options.key() != null) {
                if (options.cert() == null || options.key() == null) {
                    throw new LoadTestException("--cert and --key must be given together");
                }
                tls.keyManager(options.cert().toFile(), options.key().toFile());
            }
            return tls.build();
        } catch (IOException e) {
            throw new LoadTestException("cannot read TLS files: " + e.getMessage(), e);
        }
    }

    /**
     * Waits until every channel is READY. A channel that fails gets a probe call so that the
     * one-line reason names the real cause (connection refused, TLS handshake, ...).
     */
    public static void awaitReady(List<ManagedChannel> channels, ConnectionOptions options,
                                  Metadata headers) {
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        for (ManagedChannel channel : channels) {
            ConnectivityState state = channel.getState(true);
            while (state != ConnectivityState.READY) {
                if (state == ConnectivityState.TRANSIENT_FAILURE || state == ConnectivityState.SHUTDOWN) {
                    throw cannotConnect(channel, options, headers);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new LoadTestException("cannot connect to " + options.host() + ": no connection within "
                            + options.connectTimeout().toMillis() + " ms");
                }
                CountDownLatch changed = new CountDownLatch(1);
                channel.notifyWhenStateChanged(state, changed::countDown);
                try {
                    changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LoadTestException("interrupted while connecting to " + options.host());
                }
                state = channel.getState(true);
            }
        }
    }

    private static LoadTestException cannotConnect(ManagedChannel channel, ConnectionOptions options,
                                                   Metadata headers) {
        String reason = "transient failure";
        try {
            ClientCalls.blockingUnaryCall(channel, HealthGrpc.getCheckMethod(),
                    CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS),
                    HealthCheckRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            Status status = e.getStatus();
            String description = status.getDescription() != null ? status.getDescription() : status.getCode().toString();
            reason = description.lines().findFirst().orElse(description);
            Throwable root = status.getCause();
            while (root != null && root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root != null && root.getMessage() != null && !reason.contains(root.getMessage())) {
                // e.g. "Connection refused" or "unable to find valid certification path"
                reason = reason + ": " + root.getMessage();
            }
        }
        return new LoadTestException("cannot connect to " + options.host() + ": " + reason);
    }

    public static void shutdown(List<ManagedChannel> channels) {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow();
        }
        for (ManagedChannel channel : channels) {
            try {
                channel.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
