package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hears threads being marked in {@code redis_repairs} by any instance, as the marking commits:
 * a trigger on the table sends the thread id on {@value #CHANNEL} (migration V4), and this
 * listens on a connection of its own. Without it an instance learns of another one's failover
 * writes only from its next poll of the table, and until then it could serve a page of such a
 * thread from Redis alone, without them. Notifications sent while the connection was down are
 * lost, so every time the listening starts (again) the caller is told to look at the marks
 * themselves at once.
 */
public final class RedisRepairNotifications implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisRepairNotifications.class);
  public static final String CHANNEL = "messagestore_redis_repairs";
  /** How long one wait for notifications lasts; also how soon close() is noticed. */
  private static final int WAIT_MILLIS = 500;
  private static final Duration RECONNECT_DELAY = Duration.ofSeconds(1);
  /**
   * A quiet connection is asked whether it still answers this often: a server that went away
   * without closing it (a partition, a paused host) would otherwise leave the listener deaf.
   */
  private static final Duration LIVENESS_CHECK = Duration.ofSeconds(10);

  private final PostgresTier tier;
  private final Consumer<String> marked;
  private final Runnable listening;
  private final Thread listener;
  private volatile boolean running = true;

  /**
   * {@code marked} is called with the thread id of each notification, and {@code listening}
   * each time the listening (re)starts, both on the listening thread.
   */
  public RedisRepairNotifications(PostgresTier tier, Consumer<String> marked, Runnable listening) {
    this.tier = tier;
    this.marked = marked;
    this.listening = listening;
    this.listener = new Thread(this::listen, "redis-repair-listener");
    listener.setDaemon(true);
  }

  public void start() {
    listener.start();
  }

  private void listen() {
    while (running) {
      try (Connection c = tier.dedicatedConnection(); Statement s = c.createStatement()) {
        s.execute("LISTEN " + CHANNEL);
        PGConnection pg = c.unwrap(PGConnection.class);
        log.debug("listening for redis repair marks");
        listening.run();
        long checkAt = System.nanoTime() + LIVENESS_CHECK.toNanos();
        while (running) {
          PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
          if (notifications != null && notifications.length > 0) {
            for (PGNotification n : notifications) {
              marked.accept(n.getParameter());
            }
            checkAt = System.nanoTime() + LIVENESS_CHECK.toNanos();
          } else if (System.nanoTime() - checkAt > 0) {
            if (!c.isValid((int) LIVENESS_CHECK.toSeconds())) {
              throw new SQLException("the listening connection no longer answers");
            }
            checkAt = System.nanoTime() + LIVENESS_CHECK.toNanos();
          }
        }
      } catch (SQLException e) {
        if (running) {
          log.debug("redis repair listener lost postgres, reconnecting in {}: {}", RECONNECT_DELAY, e.toString());
          try {
            TimeUnit.MILLISECONDS.sleep(RECONNECT_DELAY.toMillis());
          } catch (InterruptedException interrupted) {
            return;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    listener.interrupt();
    try {
      listener.join(WAIT_MILLIS * 4L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
