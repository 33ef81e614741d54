package io.messagestore.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import io.messagestore.server.testing.Poll;
import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How shards' batches are combined into commits; the insert is a recording stand-in. */
class GroupCommitTest {
  final ExecutorService shards = Executors.newFixedThreadPool(4);
  final List<Thread> shardThreads = Collections.synchronizedList(new ArrayList<>());
  final List<List<String>> statements = Collections.synchronizedList(new ArrayList<>());

  @AfterEach
  void stop() {
    shards.shutdownNow();
  }

  @Test
  void batchesHandedInWhileACommitRunsGoInTogetherAsTheNextOne() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit<Message> commits = firstStatementHeldUntil(releaseFirstInsert, messages -> { });

    List<Future<?>> handed = handInBehindHeldCommit(commits,
        List.of("a1", "a2"), List.of("b1"), List.of("c1", "c2"), List.of("d1"));
    releaseFirstInsert.countDown();
    for (Future<?> f : handed) {
      f.get(10, TimeUnit.SECONDS);
    }

    assertThat(statements).hasSize(2);
    assertThat(statements.get(0)).containsExactly("a1", "a2");
    assertThat(statements.get(1)).containsExactlyInAnyOrder("b1", "c1", "c2", "d1");
  }

  @Test
  void aBatchPostgresRefusesFailsOnlyItsOwnShard() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit<Message> commits = firstStatementHeldUntil(releaseFirstInsert, messages -> {
      if (ids(messages).contains("poison")) {
        throw new SQLException("invalid byte sequence", "22021");
      }
    });

    List<Future<?>> handed = handInBehindHeldCommit(commits, List.of("a1"), List.of("b1"), List.of("c1", "poison"));
    releaseFirstInsert.countDown();

    handed.get(0).get(10, TimeUnit.SECONDS);
    handed.get(1).get(10, TimeUnit.SECONDS);
    assertThat(failureOf(handed.get(2))).isInstanceOf(SQLException.class).hasMessage("invalid byte sequence");
    // the combined statement, then each batch on its own
    assertThat(statements).hasSize(4);
    assertThat(statements.subList(2, 4)).containsExactlyInAnyOrder(List.of("b1"), List.of("c1", "poison"));
  }

  @Test
  void whenPostgresIsUnreachableEveryBatchOfTheGroupSeesIt() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit<Message> commits = firstStatementHeldUntil(releaseFirstInsert, messages -> {
      throw new SQLException("connection refused", "08001", new ConnectException("refused"));
    });

    List<Future<?>> handed = handInBehindHeldCommit(commits, List.of("a1"), List.of("b1"), List.of("c1"));
    releaseFirstInsert.countDown();

    handed.get(0).get(10, TimeUnit.SECONDS);
    assertThat(failureOf(handed.get(1))).hasMessage("connection refused");
    assertThat(failureOf(handed.get(2))).hasMessage("connection refused");
    // one attempt for both: retrying is the persisters' job, each after its own back-off
    assertThat(statements).hasSize(2);
  }

  @Test
  void aBatchWhoseGroupCommitEndedWithoutAnOutcomeIsNeverReportedCommitted() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit<Message> commits = firstStatementHeldUntil(releaseFirstInsert, messages -> {
      throw new AssertionError("the committing thread died");
    });

    List<Future<?>> handed = handInBehindHeldCommit(commits, List.of("a1"), List.of("b1"), List.of("c1"));
    releaseFirstInsert.countDown();

    handed.get(0).get(10, TimeUnit.SECONDS);
    // one of them led the commit and saw the Error itself; the other must not pass for committed
    assertThat(List.of(failureOf(handed.get(1)), failureOf(handed.get(2))))
        .extracting(t -> t.getClass().getSimpleName())
        .containsExactlyInAnyOrder("AssertionError", "IllegalStateException");
  }

  /**
   * A group commit over a recording insert whose first statement is held until {@code release}
   * counts down; every later statement is recorded and then handed to {@code later}.
   */
  private GroupCommit<Message> firstStatementHeldUntil(CountDownLatch release,
      GroupCommit.BatchInsert<Message> later) {
    return new GroupCommit<>(messages -> {
      statements.add(ids(messages));
      if (statements.size() == 1) {
        release.await();
        return;
      }
      later.insert(messages);
    });
  }

  /**
   * Hands in {@code first}, waits until its statement is held, then hands in the others and
   * waits until they queue behind it. Returns the futures in the order handed in.
   */
  @SafeVarargs
  private List<Future<?>> handInBehindHeldCommit(GroupCommit<Message> commits, List<String> first, List<String>... others) {
    List<Future<?>> handed = new ArrayList<>();
    handed.add(handIn(commits, first.toArray(String[]::new)));
    Poll.until(Duration.ofSeconds(10), "the first commit to start", () -> statements.size() == 1);
    for (List<String> batch : others) {
      handed.add(handIn(commits, batch.toArray(String[]::new)));
    }
    waitUntilShardsWait(1 + others.length);
    return handed;
  }

  private Future<?> handIn(GroupCommit<Message> commits, String... ids) {
    return shards.submit(() -> {
      shardThreads.add(Thread.currentThread());
      commits.commit(messages(ids));
      return null;
    });
  }

  /**
   * All {@code n} shards are parked: the first inside its held-up insert, the others in the
   * hand-in, waiting for that commit (the only place they can wait).
   */
  private void waitUntilShardsWait(int n) {
    Poll.until(Duration.ofSeconds(10), n + " shards to wait", () -> {
      synchronized (shardThreads) {
        return shardThreads.size() == n && shardThreads.stream().allMatch(t -> t.getState() == Thread.State.WAITING);
      }
    });
  }

  private static Throwable failureOf(Future<?> f) throws InterruptedException {
    try {
      f.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected the commit to fail");
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("commit did not finish", e);
    }
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
