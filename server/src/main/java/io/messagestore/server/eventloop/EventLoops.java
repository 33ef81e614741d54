package io.messagestore.server.eventloop;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.lettuce.core.resource.Transports;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The event-loop threads that serve both the gRPC connections and the request-path Redis
 * connections (thread per core).
 *
 * <p>A GetMessage or a cache-durability SendMessage is one Redis round trip. When the gRPC call
 * and its Redis connection live on the same event loop, the call's handler writes the command
 * straight to the Redis socket and the reply completes the call on that same thread: no
 * hand-off to a call executor, no wake-up of a Redis I/O thread, no wake-up to write the
 * response. On a small machine those hand-offs cost more CPU than the call itself. The price is
 * a rule: nothing that runs on these threads may block; JDBC and ClickHouse calls run on the
 * gateway's bounded blocking pool.
 */
public final class EventLoops implements AutoCloseable {
  /** The default thread count: one per available core. */
  public static final int DEFAULT_THREADS = Runtime.getRuntime().availableProcessors();

  private final MultiThreadIoEventLoopGroup group;
  private final List<EventLoop> loops = new ArrayList<>();
  private final boolean epoll;

  /**
   * @param threads how many event loops (at least 1)
   */
  public EventLoops(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    // The transport lettuce picks for its sockets decides ours: a channel can only be registered
    // with an event loop of its own transport.
    Class<?> redisChannel = Transports.socketChannelClass();
    if (redisChannel == EpollSocketChannel.class) {
      epoll = true;
    } else if (redisChannel == io.netty.channel.socket.nio.NioSocketChannel.class) {
      epoll = false;
    } else {
      throw new IllegalStateException("unsupported Redis transport " + redisChannel.getName()
          + "; run with -Dio.lettuce.core.iouring=false -Dio.lettuce.core.kqueue=false");
    }
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("io-loop", true), io);
    for (EventExecutor e : group) {
      loops.add((EventLoop) e);
    }
  }

  public EventLoopGroup group() {
    return group;
  }

  public Class<? extends ServerChannel> serverChannelType() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public String transport() {
    return epoll ? "epoll" : "nio";
  }

  public int size() {
    return loops.size();
  }

  /**
   * The index of the loop running the calling thread, or -1 when the caller is not one of them
   * (persisters, the blocking pool, tests).
   */
  public int currentIndex() {
    for (int i = 0; i < loops.size(); i++) {
      if (loops.get(i).inEventLoop()) {
        return i;
      }
    }
    return -1;
  }

  /** Runs {@code task} on loop {@code i}. */
  public void execute(int i, Runnable task) {
    loops.get(i).execute(task);
  }

  /**
   * A lettuce event-loop provider that places every connection of a client on loop {@code i}.
   * Lettuce registers a new channel with {@code group.next()}; a single event loop is a group
   * whose {@code next()} is itself.
   */
  public EventLoopGroupProvider pinnedTo(int i) {
    EventLoop loop = loops.get(i);
    int size = loops.size();
    return new EventLoopGroupProvider() {
      @Override
      @SuppressWarnings("unchecked")
      public <T extends EventLoopGroup> T allocate(Class<T> type) {
        return (T) loop;
      }

      @Override
      public int threadPoolSize() {
        return size;
      }

      @Override
      public Future<Boolean> release(EventExecutorGroup eventLoopGroup, long quietPeriod, long timeout, TimeUnit unit) {
        // Owned by EventLoops, shut down in close().
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
      }

      @Override
      public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
      }
    };
  }

  /** Stops the loops after the gRPC server and the Redis clients have closed their channels. */
  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }
}
