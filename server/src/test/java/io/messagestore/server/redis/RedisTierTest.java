package io.messagestore.server.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.config.RedisSettings;
import io.messagestore.server.eventloop.EventLoops;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.SlowRepliesRedisProxy;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisTierTest {

  /**
   * Every reply on a connection that said HELLO (all of them: it opens the handshake) comes
   * 200 ms late: slower than a command may take, faster than a connect may. Before the
   * handshake had the connect timeout, no connection ever opened.
   */
  @Test
  void aSlowHandshakeGetsTheConnectTimeoutWhileCommandsKeepTheirOwn() throws Exception {
    try (SlowRepliesRedisProxy proxy = SlowRepliesRedisProxy.inFrontOfSharedRedis("HELLO", Duration.ofMillis(200));
        EventLoops loops = new EventLoops(1)) {
      RedisTier redis = new RedisTier(
          new RedisSettings(URI.create("redis://127.0.0.1:" + proxy.port()), Duration.ofMillis(100)), loops);
      try {
        // The first call starts the connect in the background; the connection opens once the
        // handshake is through, which takes the proxy's delay.
        Poll.until(Duration.ofSeconds(10), "request-path connection to open", () -> {
          try {
            redis.async();
            return true;
          } catch (RuntimeException stillConnecting) {
            return false;
          }
        });

        assertThat(redis.async().getStatefulConnection().getTimeout()).isEqualTo(Duration.ofMillis(100));
      } finally {
        redis.close();
      }
    }
  }
}
