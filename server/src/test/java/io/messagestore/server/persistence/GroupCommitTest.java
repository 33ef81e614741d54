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
    CountDownLatch firstInsertRuns = new CountDownLatch(1);
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit commits = new GroupCommit(messages -> {
      statements.add(ids(messages));
      if (statements.size() == 1) {
        firstInsertRuns.countDown();
        releaseFirstInsert.await();
      }
    });

    Future<?> a = handIn(commits, "a1", "a2");
    assertThat(firstInsertRuns.await(10, TimeUnit.SECONDS)).isTrue();
    List<Future<?>> others = List.of(handIn(commits, "b1"), handIn(commits, "c1", "c2"), handIn(commits, "d1"));
    waitUntilShardsWait(4);
    releaseFirstInsert.countDown();
    a.get(10, TimeUnit.SECONDS);
    for (Future<?> f : others) {
      f.get(10, TimeUnit.SECONDS);
    }

    assertThat(statements).hasSize(2);
    assertThat(statements.get(0)).containsExactly("a1", "a2");
    assertThat(statements.get(1)).containsExactlyInAnyOrder("b1", "c1", "c2", "d1");
  }

  @Test
  void aBatchPostgresRefusesFailsOnlyItsOwnShard() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit commits = new GroupCommit(messages -> {
      statements.add(ids(messages));
      if (statements.size() == 1) {
        releaseFirstInsert.await();
      }
      if (ids(messages).contains("poison")) {
        throw new SQLException("invalid byte sequence", "22021");
      }
    });

    Future<?> first = handIn(commits, "a1");
    Poll.until(Duration.ofSeconds(10), "the first commit to start", () -> statements.size() == 1);
    Future<?> good = handIn(commits, "b1");
    Future<?> bad = handIn(commits, "c1", "poison");
    waitUntilShardsWait(3);
    releaseFirstInsert.countDown();

    first.get(10, TimeUnit.SECONDS);
    good.get(10, TimeUnit.SECONDS);
    assertThat(failureOf(bad)).isInstanceOf(SQLException.class).hasMessage("invalid byte sequence");
    // the combined statement, then each batch on its own
    assertThat(statements).hasSize(4);
    assertThat(statements.subList(2, 4)).containsExactlyInAnyOrder(List.of("b1"), List.of("c1", "poison"));
  }

  @Test
  void whenPostgresIsUnreachableEveryBatchOfTheGroupSeesIt() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit commits = new GroupCommit(messages -> {
      statements.add(ids(messages));
      if (statements.size() == 1) {
        releaseFirstInsert.await();
        return;
      }
      throw new SQLException("connection refused", "08001", new ConnectException("refused"));
    });

    Future<?> first = handIn(commits, "a1");
    Poll.until(Duration.ofSeconds(10), "the first commit to start", () -> statements.size() == 1);
    Future<?> b = handIn(commits, "b1");
    Future<?> c = handIn(commits, "c1");
    waitUntilShardsWait(3);
    releaseFirstInsert.countDown();

    first.get(10, TimeUnit.SECONDS);
    assertThat(failureOf(b)).hasMessage("connection refused");
    assertThat(failureOf(c)).hasMessage("connection refused");
    // one attempt for both: retrying is the persisters' job, each after its own back-off
    assertThat(statements).hasSize(2);
  }

  @Test
  void aBatchWhoseGroupCommitEndedWithoutAnOutcomeIsNeverReportedCommitted() throws Exception {
    CountDownLatch releaseFirstInsert = new CountDownLatch(1);
    GroupCommit commits = new GroupCommit(messages -> {
      statements.add(ids(messages));
      if (statements.size() == 1) {
        releaseFirstInsert.await();
        return;
      }
      throw new AssertionError("the committing thread died");
    });

    Future<?> first = handIn(commits, "a1");
    Poll.until(Duration.ofSeconds(10), "the first commit to start", () -> statements.size() == 1);
    Future<?> b = handIn(commits, "b1");
    Future<?> c = handIn(commits, "c1");
    waitUntilShardsWait(3);
    releaseFirstInsert.countDown();

    first.get(10, TimeUnit.SECONDS);
    // one of them led the commit and saw the Error itself; the other must not pass for committed
    assertThat(List.of(failureOf(b), failureOf(c)))
        .extracting(t -> t.getClass().getSimpleName())
        .containsExactlyInAnyOrder("AssertionError", "IllegalStateException");
  }

  private Future<?> handIn(GroupCommit commits, String... ids) {
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
