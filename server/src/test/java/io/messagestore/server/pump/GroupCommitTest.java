package io.messagestore.server.pump;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.PostgresTier;
import java.net.ConnectException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * How batches that are ready together (a persister round's shard batches) become statements; the
 * insert is a recording stand-in.
 */
class GroupCommitTest {
  final List<List<String>> statements = Collections.synchronizedList(new ArrayList<>());

  @Test
  void theShardsBatchesOfARoundGoInAsOneStatement() throws Exception {
    GroupCommit<Message> commits = recording(messages -> { });

    List<Exception> refused = commits.commit(List.of(messages("a1", "a2"), messages("b1"), messages("c1")));

    assertThat(refused).containsExactly(null, null, null);
    assertThat(statements).containsExactly(List.of("a1", "a2", "b1", "c1"));
  }

  @Test
  void aBatchPostgresRefusesFailsOnlyItsOwnShard() throws Exception {
    GroupCommit<Message> commits = recording(messages -> {
      if (ids(messages).contains("poison")) {
        throw new SQLException("invalid byte sequence", "22021");
      }
    });

    List<Exception> refused = commits.commit(List.of(messages("a1"), messages("b1", "poison"), messages("c1")));

    assertThat(refused.get(0)).isNull();
    assertThat(refused.get(1)).isInstanceOf(SQLException.class).hasMessage("invalid byte sequence");
    assertThat(refused.get(2)).isNull();
    // the combined statement, then each batch on its own
    assertThat(statements).containsExactly(List.of("a1", "b1", "poison", "c1"), List.of("a1"),
        List.of("b1", "poison"), List.of("c1"));
  }

  @Test
  void whenPostgresIsUnreachableNoBatchIsReportedCommitted() {
    GroupCommit<Message> commits = recording(messages -> {
      throw new SQLException("connection refused", "08001", new ConnectException("refused"));
    });

    assertThatThrownBy(() -> commits.commit(List.of(messages("a1"), messages("b1"))))
        .isInstanceOf(SQLException.class).hasMessage("connection refused");
    // one attempt: retrying the round is the persister's job, after its back-off
    assertThat(statements).hasSize(1);
  }

  @Test
  void postgresGoingAwayWhileBatchesAreTriedAloneFailsTheWholeRound() {
    GroupCommit<Message> commits = recording(messages -> {
      if (statements.size() == 1) {
        throw new SQLException("invalid byte sequence", "22021");
      }
      if (statements.size() == 3) {
        throw new SQLException("terminating connection", "57P01");
      }
    });

    // the first batch committed alone before the failure; the retry skips it (ON CONFLICT)
    assertThatThrownBy(() -> commits.commit(List.of(messages("a1"), messages("b1"), messages("c1"))))
        .isInstanceOf(SQLException.class).hasMessage("terminating connection");
    assertThat(statements).containsExactly(List.of("a1", "b1", "c1"), List.of("a1"), List.of("b1"));
  }

  @Test
  void aSingleBatchIsCommittedWithoutTheCombinedAttempt() throws Exception {
    GroupCommit<Message> commits = recording(messages -> {
      throw new SQLException("value too long", "22001");
    });

    List<Exception> refused = commits.commit(List.of(messages("a1", "a2")));

    assertThat(refused).singleElement().isInstanceOf(SQLException.class);
    assertThat(statements).containsExactly(List.of("a1", "a2"));
  }

  /** A group commit whose insert records each statement and then hands it to {@code then}. */
  private GroupCommit<Message> recording(GroupCommit.BatchInsert<Message> then) {
    return new GroupCommit<>(messages -> {
      statements.add(ids(messages));
      then.insert(messages);
    }, PostgresTier::isConnectivityFailure);
  }

  private static List<Message> messages(String... ids) {
    List<Message> out = new ArrayList<>();
    for (String id : ids) {
      out.add(Message.newBuilder().setMessageId(id).build());
    }
    return out;
  }

  private static List<String> ids(List<Message> messages) {
    return messages.stream().map(Message::getMessageId).collect(Collectors.toList());
  }
}
