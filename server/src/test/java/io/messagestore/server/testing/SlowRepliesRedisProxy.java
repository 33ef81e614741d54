package io.messagestore.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of Redis that holds back the replies on every connection that has sent
 * a given command (e.g. {@code EVALSHA}: the gateway's request path), while other connections
 * (the persisters') pass at full speed. It makes "the commit beats the script's reply" happen
 * every time instead of once in a while.
 */
public final class SlowRepliesRedisProxy implements AutoCloseable {
  private final ServerSocket server;
  private final InetSocketAddress redis;
  private final byte[] marker;
  private final Duration delay;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicLong> sentOnSlowConnections = new ConcurrentHashMap<>();

  public SlowRepliesRedisProxy(InetSocketAddress redis, String command, Duration delay) throws IOException {
    this.redis = redis;
    this.marker = command.getBytes(StandardCharsets.US_ASCII);
    this.delay = delay;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "redis-proxy-accept");
    accept.setDaemon(true);
    accept.start();
  }

  /** A proxy in front of the shared test Redis (see {@link LocalTiers#shared}). */
  public static SlowRepliesRedisProxy inFrontOfSharedRedis(String command, Duration delay) throws IOException {
    URI redis = URI.create(LocalTiers.shared().get("MESSAGESTORE_REDIS_URI"));
    return new SlowRepliesRedisProxy(new InetSocketAddress(redis.getHost(), redis.getPort()), command, delay);
  }

  /**
   * Settings for a gateway that reaches Redis through this proxy, with limits patient enough
   * that held-back replies do not look like a failing or slow Redis; {@code extra} on top.
   */
  public Map<String, String> gatewaySettings(Map<String, String> extra) {
    Map<String, String> s = new HashMap<>(Map.of(
        "MESSAGESTORE_REDIS_URI", "redis://127.0.0.1:" + port(),
        "MESSAGESTORE_REDIS_TIMEOUT", "5s",
        "MESSAGESTORE_BREAKER_SLOW_CALL_DURATION", "10s"));
    s.putAll(extra);
    return s;
  }

  public int port() {
    return server.getLocalPort();
  }

  /**
   * How often {@code command} went to Redis on the connections whose replies are held back,
   * counted from the first call of this method for that command on.
   */
  public long sentOnSlowConnections(String command) {
    return sentOnSlowConnections.computeIfAbsent(command, c -> new AtomicLong()).get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(redis.getAddress(), redis.getPort());
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        boolean[] marked = {false};
        pump(client.getInputStream(), upstream.getOutputStream(), marked, true);
        pump(upstream.getInputStream(), client.getOutputStream(), marked, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(InputStream in, OutputStream out, boolean[] marked, boolean towardsRedis) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[64 * 1024];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (towardsRedis && !marked[0] && contains(buf, n, marker)) {
            synchronized (marked) {
              marked[0] = true;
            }
          }
          boolean slow;
          synchronized (marked) {
            slow = marked[0];
          }
          if (towardsRedis && slow) {
            for (Map.Entry<String, AtomicLong> e : sentOnSlowConnections.entrySet()) {
              e.getValue().addAndGet(occurrences(buf, n, e.getKey().getBytes(StandardCharsets.US_ASCII)));
            }
          }
          if (!towardsRedis && slow) {
            Thread.sleep(delay.toMillis());
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // connection closed
      } finally {
        try {
          out.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }, towardsRedis ? "redis-proxy-up" : "redis-proxy-down");
    t.setDaemon(true);
    t.start();
  }

  private static boolean contains(byte[] buf, int n, byte[] needle) {
    return occurrences(buf, n, needle) > 0;
  }

  private static int occurrences(byte[] buf, int n, byte[] needle) {
    int found = 0;
    outer:
    for (int i = 0; i + needle.length <= n; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buf[i + j] != needle[j]) {
          continue outer;
        }
      }
      found++;
    }
    return found;
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
