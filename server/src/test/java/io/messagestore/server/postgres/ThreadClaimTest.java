package io.messagestore.server.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.postgres.PostgresMessageStore.ThreadClaim;
import io.messagestore.server.testing.Poll;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Who owns a new thread when two users claim it at once: PostgreSQL decides, and both learn whom it chose. */
class ThreadClaimTest {
  @RegisterExtension
  final PrivateDatabaseExtension postgres = new PrivateDatabaseExtension();

  @Test
  void aFreshThreadIsClaimedByItsFirstWriter() throws SQLException {
    String thread = "fresh-" + UUID.randomUUID();

    assertThat(postgres.store().claimThread(thread, "alice")).isEqualTo(new ThreadClaim("alice", true));
    assertThat(postgres.store().claimThread(thread, "bob")).isEqualTo(new ThreadClaim("alice", false));
  }

  /**
   * Bob's claim waits for Alice's uncommitted one and then inserts nothing; the statement's
   * snapshot predates Alice's commit, so it cannot read her row either. The claim must read it
   * afterwards instead of answering with nothing.
   */
  @Test
  void aClaimThatWaitedForARacingClaimNamesItsWinner() throws Exception {
    String thread = "raced-" + UUID.randomUUID();
    try (Connection alice = postgres.db().connection()) {
      alice.setAutoCommit(false);
      try (PreparedStatement ps = alice.prepareStatement("INSERT INTO threads (thread_id, user_id) VALUES (?, 'alice')")) {
        ps.setString(1, thread);
        ps.executeUpdate();
      }
      CompletableFuture<ThreadClaim> bob = CompletableFuture.supplyAsync(() -> {
        try {
          return postgres.store().claimThread(thread, "bob");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      Poll.until(Duration.ofSeconds(10), "bob's claim to wait for alice's (or, unordered, to finish)",
          () -> bob.isDone() || PrivateDatabase.waitsForLock(alice, "transactionid"));
      alice.commit();

      assertThat(bob.get(10, TimeUnit.SECONDS)).isEqualTo(new ThreadClaim("alice", false));
    }
  }
}
