package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.TestGateway;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The {@code postgresql://user:password@host/db} form platforms hand out as DATABASE_URL. */
class PostgresUrlCredentialsTest {
  /** The shared PostgreSQL trusts local connections: any password is accepted, the role must exist. */
  private static final String PASSWORD = "somepass";

  @Test
  void aGatewayGivenAUrlWithUserAndPasswordPersistsAndNeverLogsThePassword() throws Exception {
    Map<String, String> shared = TestGateway.settings(Map.of());
    String user = shared.getOrDefault("MESSAGESTORE_POSTGRES_USER", "postgres");
    String url = shared.get("MESSAGESTORE_POSTGRES_URL").replaceFirst("://", "://" + user + ":" + PASSWORD + "@");
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    String id;
    try (TestGateway gw = TestGateway.start(Map.of("MESSAGESTORE_POSTGRES_URL", url,
        // Would be refused ("role does not exist") if it won over the URL's user.
        "MESSAGESTORE_POSTGRES_USER", "no_such_role_" + UUID.randomUUID().toString().replace("-", "")))) {
      SendMessageResponse r = gw.as("alice").sendMessage(SendMessageRequest.newBuilder()
          .setThreadId("url-credentials-" + UUID.randomUUID()).setRole(Role.ROLE_USER).setContent("persisted")
          .setDurability(Durability.DURABILITY_DURABLE).build());
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
      id = r.getMessage().getMessageId();
    } finally {
      root.detachAppender(logged);
    }

    assertThat(Databases.rowCounts(shared, List.of(id))).containsEntry(id, 1);
    assertThat(logged.list).extracting(PostgresUrlCredentialsTest::fullText)
        .anySatisfy(line -> assertThat(line).contains(" as " + user))
        .noneSatisfy(line -> assertThat(line).contains(PASSWORD));
  }

  private static String fullText(ILoggingEvent e) {
    return e.getFormattedMessage()
        + (e.getThrowableProxy() == null ? "" : "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy()));
  }
}
