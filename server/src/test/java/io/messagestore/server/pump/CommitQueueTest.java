package io.messagestore.server.pump;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.server.postgres.PostgresTier;
import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How concurrent submissions become group commits; the insert is a recording stand-in. */
class CommitQueueTest {
  final List<List<String>> statements = Collections.synchronizedList(new ArrayList<>());
  final List<CommitQueue.Group> groups = Collections.synchronizedList(new ArrayList<>());
  CommitQueue<String> queue;

  @AfterEach
  void close() {
    if (queue != null) {
      queue.close();
    }
  }

  CommitQueue<String> queue(Duration linger, int maxWeight, GroupCommit.BatchInsert<String> then) {
    return queue(1, linger, maxWeight, then);
  }

  CommitQueue<String> queue(int committers, Duration linger, int maxWeight, GroupCommit.BatchInsert<String> then) {
    queue = new CommitQueue<>("test-commits", committers, new GroupCommit<>(items -> {
      statements.add(List.copyOf(items));
      then.insert(items);
    }, PostgresTier::isConnectivityFailure), item -> item.length(), maxWeight, linger, Runnable::run, groups::add);
    return queue;
  }

  static void await(List<CompletableFuture<Void>> futures) {
    CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).handle((v, e) -> null).join();
  }

  @Test
  void submissionsWithinTheLingerShareOneStatement() {
    CommitQueue<String> q = queue(Duration.ofSeconds(1), 1000, items -> { });

    List<CompletableFuture<Void>> done = List.of(q.submit("a"), q.submit("b"), q.submit("c"));
    await(done);

    assertThat(done).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    assertThat(statements).containsExactly(List.of("a", "b", "c"));
    assertThat(groups).containsExactly(new CommitQueue.Group(3, 3));
  }

  @Test
  void submissionsArrivingWhileAGroupCommitsFormTheNextGroup() throws Exception {
    CountDownLatch committing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CommitQueue<String> q = queue(Duration.ZERO, 1000, items -> {
      if (items.contains("first")) {
        committing.countDown();
        release.await(10, TimeUnit.SECONDS);
      }
    });

    CompletableFuture<Void> first = q.submit("first");
    assertThat(committing.await(10, TimeUnit.SECONDS)).isTrue();
    List<CompletableFuture<Void>> next = List.of(q.submit("x"), q.submit("y"), q.submit("z"));
    release.countDown();
    await(next);

    assertThat(first).isCompleted();
    assertThat(statements).containsExactly(List.of("first"), List.of("x", "y", "z"));
  }

  @Test
  void withTwoCommittersTheNextGroupCommitsWhileThePreviousOneIsStillCommitting() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch committing = new CountDownLatch(1);
    CommitQueue<String> q = queue(2, Duration.ZERO, 1000, items -> {
      if (items.contains("slow")) {
        committing.countDown();
        release.await(10, TimeUnit.SECONDS);
      }
    });

    CompletableFuture<Void> slow = q.submit("slow");
    assertThat(committing.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> next = q.submit("next");
    next.get(10, TimeUnit.SECONDS);

    assertThat(slow).isNotDone();
    release.countDown();
    slow.get(10, TimeUnit.SECONDS);
    assertThat(statements).containsExactly(List.of("slow"), List.of("next"));
  }

  @Test
  void aRefusedSubmissionFailsAloneAndTheOthersOfItsGroupCommit() {
    CommitQueue<String> q = queue(Duration.ofSeconds(1), 1000, items -> {
      if (items.contains("poison")) {
        throw new SQLException("invalid input value", "22023");
      }
    });

    List<CompletableFuture<Void>> done = List.of(q.submit("a"), q.submit("poison"), q.submit("c"));
    await(done);

    assertThat(done.get(0)).isCompleted().isNotCompletedExceptionally();
    assertThat(done.get(1)).isCompletedExceptionally();
    assertThat(cause(done.get(1))).isInstanceOf(SQLException.class).hasMessage("invalid input value");
    assertThat(done.get(2)).isCompleted().isNotCompletedExceptionally();
    // the combined statement, then each submission on its own
    assertThat(statements).containsExactly(List.of("a", "poison", "c"), List.of("a"), List.of("poison"), List.of("c"));
  }

  @Test
  void anUnreachableDestinationFailsEverySubmissionOfTheGroup() {
    CommitQueue<String> q = queue(Duration.ofSeconds(1), 1000, items -> {
      throw new SQLException("connection refused", "08001", new ConnectException("refused"));
    });

    List<CompletableFuture<Void>> done = List.of(q.submit("a"), q.submit("b"));
    await(done);

    assertThat(done).allSatisfy(f -> assertThat(cause(f)).isInstanceOf(SQLException.class)
        .hasMessage("connection refused"));
    assertThat(statements).containsExactly(List.of("a", "b"));
  }

  @Test
  void aGroupTakesAtMostItsWeightAndTheRestWaitsForTheNext() {
    CommitQueue<String> q = queue(Duration.ofSeconds(1), 5, items -> { });

    List<CompletableFuture<Void>> done = List.of(q.submit("aa"), q.submit("bbb"), q.submit("cc"));
    await(done);

    assertThat(statements).containsExactly(List.of("aa", "bbb"), List.of("cc"));
    assertThat(groups).containsExactly(new CommitQueue.Group(2, 5), new CommitQueue.Group(1, 2));
  }

  @Test
  void closingCommitsWhatIsQueuedWithoutLingeringAndRefusesLaterSubmissions() {
    CommitQueue<String> q = queue(Duration.ofSeconds(30), 1000, items -> { });

    List<CompletableFuture<Void>> done = List.of(q.submit("a"), q.submit("b"));
    long start = System.nanoTime();
    q.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(done).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    assertThat(statements).containsExactly(List.of("a", "b"));
    assertThat(q.submit("late")).isCompletedExceptionally();
  }

  private static Throwable cause(CompletableFuture<Void> f) {
    try {
      f.get();
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
