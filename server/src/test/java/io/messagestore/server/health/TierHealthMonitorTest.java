package io.messagestore.server.health;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import io.grpc.protobuf.services.HealthStatusManager;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.config.PostgresSettings;
import io.messagestore.server.config.RedisSettings;
import io.messagestore.server.eventloop.EventLoops;
import io.messagestore.server.persistence.StreamBacklog;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class TierHealthMonitorTest {

  @Test
  void aProbeCutShortByCloseReportsNothing() throws Exception {
    // A ClickHouse that answers, then holds the next request until released: a probe in progress
    // (the client's ping is a request like any other).
    AtomicBoolean holdPings = new AtomicBoolean();
    CountDownLatch pingHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HttpServer clickhouse = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    ExecutorService handlers = Executors.newCachedThreadPool();
    clickhouse.setExecutor(handlers);
    clickhouse.createContext("/", exchange -> {
      boolean ping = exchange.getRequestURI().getPath().equals("/ping");
      if (holdPings.get()) {
        pingHeld.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] body = (ping ? "Ok.\n" : "18.16.1\n").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    clickhouse.start();
    // Redis and PostgreSQL where nothing listens: unreachable from the first probe on, so they
    // have nothing to report later.
    EventLoops loops = new EventLoops(1);
    RedisTier redis = new RedisTier(
        new RedisSettings(URI.create("redis://127.0.0.1:" + FreePorts.next()), Duration.ofMillis(100)), loops);
    PostgresTier postgres = new PostgresTier(new PostgresSettings(
        "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/none", "postgres", "", 2, Duration.ofMillis(250)));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TierHealthMonitor monitor = new TierHealthMonitor(redis, postgres,
        new ClickHouseTier(new ClickHouseSettings(
            URI.create("http://127.0.0.1:" + clickhouse.getAddress().getPort()), "messagestore", Duration.ofSeconds(30))),
        new StreamBacklog(redis, new RedisKeys(4), Clock.systemUTC(), meters), new HealthStatusManager(),
        Duration.ofMillis(50), meters);
    Logger monitorLog = (Logger) LoggerFactory.getLogger(TierHealthMonitor.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    try {
      monitor.start();
      assertThat(monitor.clickhouse().reachable()).isTrue();
      holdPings.set(true);
      Poll.until(Duration.ofSeconds(20), "a probe waiting for clickhouse's answer", () -> pingHeld.getCount() == 0);
      logged.start();
      monitorLog.addAppender(logged);

      monitor.close();

      assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
      assertThat(monitor.clickhouse().reachable()).isTrue();
    } finally {
      monitorLog.detachAppender(logged);
      monitor.close();
      release.countDown();
      clickhouse.stop(0);
      handlers.shutdownNow();
      redis.close();
      postgres.close();
      loops.close();
    }
  }
}
